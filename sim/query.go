package sim

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file holds the OData query options shared by every collection:
// $select, $filter, $orderby, $top, $skip / $skiptoken, $count.

type valueKind int

const (
	kindString valueKind = iota + 1
	kindBool
	kindTime
)

// field is one filterable and sortable property of T.
type field[T any] struct {
	kind valueKind
	get  func(T) any
}

func strField[T any](f func(T) string) field[T] {
	return field[T]{kindString, func(x T) any { return f(x) }}
}

func boolField[T any](f func(T) bool) field[T] {
	return field[T]{kindBool, func(x T) any { return f(x) }}
}

func timeField[T any](f func(T) time.Time) field[T] {
	return field[T]{kindTime, func(x T) any { return f(x) }}
}

// lambda is a collection property usable in any(): its elements are maps
// from a lower-case sub-path ("" for the element itself) to a value.
type lambda[T any] struct {
	kinds map[string]valueKind
	elems func(T) []map[string]any
}

// entityInfo describes how a Graph type answers query options.
type entityInfo struct {
	name        string   // OData type, for error messages: microsoft.graph.message
	props       []string // every selectable property
	hidden      []string // properties returned only when selected
	keep        []string // returned even when not selected (id, @odata.etag)
	selectCode  string   // error code for an unknown $select property
	filterCode  string   // error code for an unsupported $filter
	funcs       []string // $filter functions supported (startswith, contains...)
	strictOrder bool     // Exchange: the $orderby properties must lead the $filter
}

// entityType adds the typed accessors of T.
type entityType[T any] struct {
	entityInfo
	fields  map[string]field[T]  // lower-case path -> accessor
	lambdas map[string]lambda[T] // lower-case collection path -> elements
	order   func(a, b T) int     // default order; nil keeps the input order
}

// selection is a parsed $select; nil means the default property set.
type selection []string

func parseSelect(v string, t *entityInfo) (selection, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	sel := selection{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" || name == "*" {
			continue
		}
		i := slices.IndexFunc(t.props, func(p string) bool { return strings.EqualFold(p, name) })
		if i < 0 {
			return nil, gerr(400, t.selectCode, "Could not find a property named '%s' on type '%s'.", name, t.name)
		}
		if !slices.Contains(sel, t.props[i]) {
			sel = append(sel, t.props[i])
		}
	}
	if len(sel) == 0 {
		return nil, nil
	}
	return sel, nil
}

// apply keeps the selected properties of a full representation, or drops
// the hidden ones when nothing was selected.
func (sel selection) apply(full map[string]any, t *entityInfo) map[string]any {
	if sel == nil {
		for _, h := range t.hidden {
			delete(full, h)
		}
		return full
	}
	out := map[string]any{}
	for _, k := range append(slices.Clone(t.keep), sel...) {
		if v, ok := full[k]; ok {
			out[k] = v
		}
	}
	return out
}

// entity answers a single object with $select applied.
func entity(g *graphReq, t *entityInfo, ctx string, full map[string]any) (*reply, error) {
	sel, err := parseSelect(g.query.Get("$select"), t)
	if err != nil {
		return nil, err
	}
	out := sel.apply(full, t)
	out["@odata.context"] = contextURL(ctx, sel)
	return &reply{body: out}, nil
}

// pageMode is how a collection pages.
type pageMode int

const (
	pageSkip      pageMode = iota // Outlook: nextLink carries $skip
	pageSkipToken                 // directory: an opaque $skiptoken, $skip refused
	pageNone                      // people: $top and $skip, never a nextLink
)

type listOptions struct {
	context    string // @odata.context after "$metadata#"
	paging     pageMode
	defaultTop int // 0 = 10
	maxTop     int // 0 = 1000
	maxResults int // 0 = unlimited (a $search stops at 1000)
}

type listBody struct {
	Context  string           `json:"@odata.context"`
	Count    *int             `json:"@odata.count,omitempty"`
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink,omitempty"`
}

// listEntities answers a collection: $select, $filter, $orderby, $count,
// paging. Handlers narrow items first (folder, $search, time window).
func listEntities[T any](g *graphReq, t *entityType[T], items []T, o listOptions, render func(T) map[string]any) (*reply, error) {
	sel, err := parseSelect(g.query.Get("$select"), &t.entityInfo)
	if err != nil {
		return nil, err
	}
	var orderBy []orderKey
	if g.query.Has("$orderby") {
		if orderBy, err = t.parseOrderBy(g.query.Get("$orderby")); err != nil {
			return nil, err
		}
	}
	items = slices.Clone(items)
	if g.query.Has("$filter") {
		expr, err := parseFilter(g.query.Get("$filter"))
		if err == nil {
			err = t.check(expr, nil)
		}
		if err != nil {
			return nil, gerr(400, t.filterCode, "%s", err.Error())
		}
		// Exchange can only serve a sort from an index it also filters on.
		if t.strictOrder && orderBy != nil && !filterLeadsWith(expr, orderBy) {
			return nil, gerr(400, "InefficientFilter", "The restriction or sort order is too complex for this operation.")
		}
		items = slices.DeleteFunc(items, func(x T) bool { return !t.eval(expr, x, nil) })
	}
	switch {
	case orderBy != nil:
		slices.SortStableFunc(items, func(a, b T) int { return t.compare(a, b, orderBy) })
	case t.order != nil:
		slices.SortStableFunc(items, t.order)
	}
	if o.maxResults > 0 && len(items) > o.maxResults {
		items = items[:o.maxResults]
	}
	lo, hi, next, err := paginate(g, len(items), o)
	if err != nil {
		return nil, err
	}
	body := listBody{Context: contextURL(o.context, sel), Value: []map[string]any{}}
	if strings.EqualFold(g.query.Get("$count"), "true") {
		n := len(items)
		body.Count = &n
	}
	for _, x := range items[lo:hi] {
		body.Value = append(body.Value, sel.apply(render(x), &t.entityInfo))
	}
	body.NextLink = next
	return &reply{body: body}, nil
}

// paginate reads $top and $skip (or $skiptoken) and builds the nextLink.
func paginate(g *graphReq, total int, o listOptions) (lo, hi int, next string, err error) {
	top := cmp.Or(o.defaultTop, 10)
	maxTop := cmp.Or(o.maxTop, 1000)
	if g.query.Has("$top") {
		v := g.query.Get("$top")
		n, convErr := strconv.Atoi(v)
		switch {
		case convErr != nil || n < 0:
			return 0, 0, "", badRequest("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v)
		case n == 0:
			return 0, 0, "", badRequest("Invalid value '0' for $top query option found. The $top query option requires a value between 1 and %d.", maxTop)
		case o.paging == pageSkipToken && (n < 1 || n > maxTop):
			return 0, 0, "", gerr(400, "Request_UnsupportedQuery", "Invalid page size specified: '%d'. Must be between 1 and %d inclusive.", n, maxTop)
		case n > maxTop:
			return 0, 0, "", gerr(400, "RequestBroker--ParseUri", "The limit of '%d' for Top query has been exceeded. The value from the incoming request is '%d'.", maxTop, n)
		}
		top = n
	}
	skip := 0
	if o.paging == pageSkipToken {
		if g.query.Has("$skip") {
			return 0, 0, "", gerr(400, "Request_BadRequest", "'$skip' is not supported by the service.")
		}
		if g.query.Has("$skiptoken") {
			if skip, err = decodeSkipToken(g.query.Get("$skiptoken")); err != nil {
				return 0, 0, "", err
			}
		}
	} else if g.query.Has("$skip") {
		v := g.query.Get("$skip")
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 0 {
			return 0, 0, "", badRequest("Invalid value '%s' for $skip query option found. The $skip query option requires a non-negative integer value.", v)
		}
		skip = n
	}
	lo = min(skip, total)
	hi = min(lo+top, total)
	if hi < total && top > 0 && o.paging != pageNone {
		next = g.nextLink(hi, o.paging)
	}
	return lo, hi, next, nil
}

// Directory skip tokens are opaque; ours wrap the offset.
const skipTokenPrefix = "RFNwdAIAAQAAAB"

func encodeSkipToken(offset int) string {
	return skipTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte("sim:"+strconv.Itoa(offset)))
}

func decodeSkipToken(tok string) (int, error) {
	bad := gerr(400, "Request_BadRequest", "Invalid paging token.")
	rest, ok := strings.CutPrefix(tok, skipTokenPrefix)
	if !ok {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, bad
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "sim:"))
	if err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}

// nextLink is the absolute URL of the next page: the same path and query
// options, in the same order, with $skip (or $skiptoken) advanced.
func (g *graphReq) nextLink(offset int, mode pageMode) string {
	var parts []string
	for _, kv := range strings.Split(g.rawQ, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if k == "$skip" || k == "$skiptoken" {
			continue
		}
		parts = append(parts, queryEscape(k)+"="+queryEscape(v))
	}
	if mode == pageSkipToken {
		parts = append(parts, "$skiptoken="+encodeSkipToken(offset))
	} else {
		parts = append(parts, "$skip="+strconv.Itoa(offset))
	}
	return graphRoot + g.path + "?" + strings.Join(parts, "&")
}

// queryEscape escapes a query component as Graph writes its links: %20 for
// spaces and a literal $ in option names.
func queryEscape(s string) string {
	e := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	if strings.HasPrefix(e, "%24") {
		e = "$" + e[3:]
	}
	return e
}

type orderKey struct {
	path string // lower-case
	desc bool
}

func (t *entityType[T]) parseOrderBy(v string) ([]orderKey, error) {
	var keys []orderKey
	for _, item := range strings.Split(v, ",") {
		f := strings.Fields(item)
		if len(f) == 0 || len(f) > 2 {
			return nil, badRequest("Syntax error at position %d in '%s'.", len(v), v)
		}
		k := orderKey{path: strings.ToLower(f[0])}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, badRequest("Syntax error at position %d in '%s'.", len(v), v)
			}
		}
		if _, ok := t.fields[k.path]; !ok {
			return nil, gerr(400, t.selectCode, "Could not find a property named '%s' on type '%s'.", f[0], t.name)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (t *entityType[T]) compare(a, b T, keys []orderKey) int {
	for _, k := range keys {
		get := t.fields[k.path].get
		c := compareValues(get(a), get(b))
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case float64:
		y, _ := b.(float64)
		return cmp.Compare(x, y)
	case nil:
		if b == nil {
			return 0
		}
		return -1
	}
	return 0
}

// ---- $filter ----

// filterExpr is a parsed $filter: and/or/not, comparisons, function calls
// (startswith(subject,'x')) and any() lambdas.
type filterExpr struct {
	op   string // "and", "or", "not", "cmp", "call", "any"
	kids []*filterExpr
	path string // cmp, call: the property; any: the collection
	cmp  string // cmp: eq, ne, gt, ge, lt, le; call: the function
	lit  any    // cmp, call: string, bool, time.Time, float64 or nil
	v    string // any: the range variable
}

type filterError string

func (e filterError) Error() string { return string(e) }

const invalidFilter = filterError("The query filter contains one or more invalid nodes.")

type token struct {
	kind string // ident, string, number, time, "(", ")", ",", ":", "eof"
	text string
}

func lexFilter(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case strings.IndexByte("(),:", c) >= 0:
			toks = append(toks, token{string(c), string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, filterError("Unterminated string literal at position " + strconv.Itoa(i) + ".")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' is an escaped '
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{"string", b.String()})
			i = j + 1
		case c >= '0' && c <= '9' || c == '-':
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789-:.TZ+", s[j]) >= 0 {
				j++
			}
			text := s[i:j]
			kind := "number"
			if strings.Count(text, "-") >= 2 {
				kind = "time"
			}
			toks = append(toks, token{kind, text})
			i = j
		case unicode.IsLetter(rune(c)) || c == '_' || c == '$':
			j := i + 1
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || strings.IndexByte("_/.$", s[j]) >= 0) {
				j++
			}
			toks = append(toks, token{"ident", s[i:j]})
			i = j
		default:
			return nil, filterError("Syntax error: character '" + string(c) + "' is not valid at position " + strconv.Itoa(i) + ".")
		}
	}
	return append(toks, token{"eof", ""}), nil
}

type filterParser struct {
	toks []token
	pos  int
}

func parseFilter(s string) (*filterExpr, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != "eof" {
		return nil, invalidFilter
	}
	return e, nil
}

func (p *filterParser) peek() token { return p.toks[p.pos] }
func (p *filterParser) next() token {
	t := p.toks[p.pos]
	p.pos = min(p.pos+1, len(p.toks)-1)
	return t
}

func (p *filterParser) keyword(k string) bool {
	if t := p.peek(); t.kind == "ident" && strings.EqualFold(t.text, k) {
		p.next()
		return true
	}
	return false
}

func (p *filterParser) expect(kind string) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, invalidFilter
	}
	return t, nil
}

func (p *filterParser) or() (*filterExpr, error)  { return p.binary("or", p.and) }
func (p *filterParser) and() (*filterExpr, error) { return p.binary("and", p.unary) }

func (p *filterParser) binary(op string, operand func() (*filterExpr, error)) (*filterExpr, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.keyword(op) {
		right, err := operand()
		if err != nil {
			return nil, err
		}
		if left.op == op {
			left.kids = append(left.kids, right)
		} else {
			left = &filterExpr{op: op, kids: []*filterExpr{left, right}}
		}
	}
	return left, nil
}

func (p *filterParser) unary() (*filterExpr, error) {
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "not", kids: []*filterExpr{x}}, nil
	}
	if p.peek().kind == "(" {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		_, err = p.expect(")")
		return x, err
	}
	id, err := p.expect("ident")
	if err != nil {
		return nil, err
	}
	if p.peek().kind != "(" {
		op := p.next()
		if op.kind != "ident" || !slices.Contains([]string{"eq", "ne", "gt", "ge", "lt", "le"}, strings.ToLower(op.text)) {
			return nil, invalidFilter
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "cmp", path: id.text, cmp: strings.ToLower(op.text), lit: lit}, nil
	}
	p.next() // (
	if coll, ok := cutSuffixFold(id.text, "/any"); ok {
		v, err := p.expect("ident")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(":"); err != nil {
			return nil, err
		}
		body, err := p.or()
		if err != nil {
			return nil, err
		}
		_, err = p.expect(")")
		return &filterExpr{op: "any", path: coll, v: v.text, kids: []*filterExpr{body}}, err
	}
	arg, err := p.expect("ident")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(","); err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	_, err = p.expect(")")
	return &filterExpr{op: "call", cmp: strings.ToLower(id.text), path: arg.text, lit: lit}, err
}

func (p *filterParser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case "string":
		return t.text, nil
	case "number":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, invalidFilter
		}
		return f, nil
	case "time":
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if tm, err := time.Parse(layout, t.text); err == nil {
				return tm.UTC(), nil
			}
		}
		return nil, filterError("The DateTimeOffset text '" + t.text + "' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.")
	case "ident":
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, invalidFilter
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// lambdaScope is the element a range variable stands for inside any().
type lambdaScope struct {
	v     string
	kinds map[string]valueKind
	elem  map[string]any
}

// resolve maps a path inside any() to the element's sub-path.
func (l *lambdaScope) resolve(path string) (string, bool) {
	if l == nil {
		return "", false
	}
	if path == l.v {
		return "", true
	}
	if rest, ok := strings.CutPrefix(path, l.v+"/"); ok {
		return strings.ToLower(rest), true
	}
	return "", false
}

func (t *entityType[T]) kindOf(path string, l *lambdaScope) (valueKind, error) {
	if sub, ok := l.resolve(path); ok {
		if k, ok := l.kinds[sub]; ok {
			return k, nil
		}
	} else if f, ok := t.fields[strings.ToLower(path)]; ok {
		return f.kind, nil
	}
	return 0, filterError("Could not find a property named '" + path + "' on type '" + t.name + "'.")
}

// check validates properties, functions and literal types before anything is evaluated.
func (t *entityType[T]) check(e *filterExpr, l *lambdaScope) error {
	switch e.op {
	case "and", "or", "not":
		for _, k := range e.kids {
			if err := t.check(k, l); err != nil {
				return err
			}
		}
		return nil
	case "any":
		lam, ok := t.lambdas[strings.ToLower(e.path)]
		if !ok || l != nil {
			return invalidFilter
		}
		return t.check(e.kids[0], &lambdaScope{v: e.v, kinds: lam.kinds})
	case "call":
		if !slices.Contains(t.funcs, e.cmp) {
			return invalidFilter
		}
		k, err := t.kindOf(e.path, l)
		if err != nil {
			return err
		}
		if _, isStr := e.lit.(string); k != kindString || !isStr {
			return invalidFilter
		}
		return nil
	}
	k, err := t.kindOf(e.path, l)
	if err != nil {
		return err
	}
	var ok bool
	switch e.lit.(type) {
	case nil:
		ok = e.cmp == "eq" || e.cmp == "ne"
	case string:
		ok = k == kindString
	case bool:
		ok = k == kindBool && (e.cmp == "eq" || e.cmp == "ne")
	case time.Time:
		ok = k == kindTime
	}
	if !ok {
		return filterError("A binary operator with incompatible types was detected. Found operand types for operator kind '" + e.cmp + "' on property '" + e.path + "'.")
	}
	return nil
}

func (t *entityType[T]) eval(e *filterExpr, x T, l *lambdaScope) bool {
	switch e.op {
	case "and":
		for _, k := range e.kids {
			if !t.eval(k, x, l) {
				return false
			}
		}
		return true
	case "or":
		for _, k := range e.kids {
			if t.eval(k, x, l) {
				return true
			}
		}
		return false
	case "not":
		return !t.eval(e.kids[0], x, l)
	case "any":
		lam := t.lambdas[strings.ToLower(e.path)]
		for _, el := range lam.elems(x) {
			if t.eval(e.kids[0], x, &lambdaScope{v: e.v, kinds: lam.kinds, elem: el}) {
				return true
			}
		}
		return false
	}
	var val any
	if sub, ok := l.resolve(e.path); ok {
		val = l.elem[sub]
	} else {
		val = t.fields[strings.ToLower(e.path)].get(x)
	}
	if e.op == "call" {
		s, lit := strings.ToLower(val.(string)), strings.ToLower(e.lit.(string))
		switch e.cmp {
		case "startswith":
			return strings.HasPrefix(s, lit)
		case "endswith":
			return strings.HasSuffix(s, lit)
		default:
			return strings.Contains(s, lit)
		}
	}
	if e.lit == nil {
		empty := val == nil || val == "" || val == (time.Time{})
		return empty == (e.cmp == "eq")
	}
	c := compareValues(val, e.lit)
	switch e.cmp {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	}
	return c <= 0
}

// filterLeadsWith reports whether the filter's leading and-clauses compare
// the ordered properties, in order (Exchange's InefficientFilter rule).
func filterLeadsWith(e *filterExpr, keys []orderKey) bool {
	clauses := []*filterExpr{e}
	if e.op == "and" {
		clauses = e.kids
	}
	if len(clauses) < len(keys) {
		return false
	}
	for i, k := range keys {
		c := clauses[i]
		if c.op != "cmp" || strings.ToLower(c.path) != k.path {
			return false
		}
	}
	return true
}
