package sim

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// $search is parsed in two layers, as Graph does. The outer layer is
// OData's $search grammar: phrases in double quotes (where \" and \\ are the
// only escapes), bare words, AND / OR / NOT and parentheses. For Outlook
// every phrase is then a KQL query of its own (from:alice subject:"Q4 plan"
// received>=2026-01-01), parsed by the same grammar without escapes. The
// directory reads each phrase as "property:value".

// qnode is a node of a parsed search query.
type qnode struct {
	op     string // "and", "or", "not"; "" for a leaf
	kids   []*qnode
	text   string // leaf: the word, or the phrase without its quotes
	quoted bool   // leaf: written as a "phrase"
}

type qparser struct {
	src     string
	escapes bool // OData layer: backslash escapes inside phrases
	pos     int
}

func searchSyntaxError(src string, pos int) error {
	c := "end of input"
	if pos < len(src) {
		r, _ := utf8.DecodeRuneInString(src[pos:])
		c = string(r)
	}
	return badRequest("Syntax error: character '%s' is not valid at position %d in '%s'.", c, pos, src)
}

// parseSearch parses one layer of a search query.
func parseSearch(src string, escapes bool) (*qnode, error) {
	p := &qparser{src: src, escapes: escapes}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); p.pos < len(src) {
		return nil, searchSyntaxError(src, p.pos)
	}
	if n == nil {
		return nil, badRequest("The $search query option must not be empty.")
	}
	return n, nil
}

func (p *qparser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// operator consumes an upper-case AND / OR / NOT (KQL operators are case
// sensitive: "and" is an ordinary word).
func (p *qparser) operator(op string) bool {
	p.skipSpace()
	rest := p.src[p.pos:]
	if strings.HasPrefix(rest, op) && (len(rest) == len(op) || strings.ContainsRune(" \t()", rune(rest[len(op)]))) {
		p.pos += len(op)
		return true
	}
	return false
}

func (p *qparser) or() (*qnode, error) {
	left, err := p.and()
	if err != nil || left == nil {
		return left, err
	}
	for p.operator("OR") {
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, searchSyntaxError(p.src, p.pos)
		}
		left = &qnode{op: "or", kids: []*qnode{left, right}}
	}
	return left, nil
}

func (p *qparser) and() (*qnode, error) {
	left, err := p.unary()
	if err != nil || left == nil {
		return left, err
	}
	for {
		explicit := p.operator("AND")
		p.skipSpace()
		save := p.pos
		if !explicit && (p.pos >= len(p.src) || p.src[p.pos] == ')' || p.operator("OR")) {
			p.pos = save
			return left, nil // implicit AND only between terms
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, searchSyntaxError(p.src, p.pos)
		}
		left = &qnode{op: "and", kids: []*qnode{left, right}}
	}
}

func (p *qparser) unary() (*qnode, error) {
	if p.operator("NOT") {
		x, err := p.unary()
		if err != nil || x == nil {
			return nil, cmpErr(err, searchSyntaxError(p.src, p.pos))
		}
		return &qnode{op: "not", kids: []*qnode{x}}, nil
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] == ')' {
		return nil, nil
	}
	if p.src[p.pos] == '(' {
		p.pos++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.skipSpace(); p.pos >= len(p.src) || p.src[p.pos] != ')' || x == nil {
			return nil, searchSyntaxError(p.src, p.pos)
		}
		p.pos++
		return x, nil
	}
	if p.src[p.pos] == '"' {
		text, err := p.phrase()
		return &qnode{text: text, quoted: true}, err
	}
	return p.word()
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// phrase reads a double-quoted phrase starting at p.pos.
func (p *qparser) phrase() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\' && p.escapes:
			if p.pos+1 >= len(p.src) || (p.src[p.pos+1] != '"' && p.src[p.pos+1] != '\\') {
				return "", searchSyntaxError(p.src, p.pos)
			}
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", searchSyntaxError(p.src, start)
}

// word reads a bare word. In KQL a word may end in a phrase, as in
// subject:"Q4 plan"; in OData's layer a quote inside a word is an error.
func (p *qparser) word() (*qnode, error) {
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == ' ' || c == '\t' || c == '(' || c == ')' {
			break
		}
		if c == '"' {
			if p.escapes {
				return nil, searchSyntaxError(p.src, p.pos)
			}
			text, err := p.phrase()
			if err != nil {
				return nil, err
			}
			b.WriteString(`"` + text + `"`)
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	return &qnode{text: b.String()}, nil
}

// eval evaluates a query tree, leaves by leaf.
func (n *qnode) eval(leaf func(*qnode) bool) bool {
	switch n.op {
	case "and":
		return n.kids[0].eval(leaf) && n.kids[1].eval(leaf)
	case "or":
		return n.kids[0].eval(leaf) || n.kids[1].eval(leaf)
	case "not":
		return !n.kids[0].eval(leaf)
	}
	return leaf(n)
}

// leaves returns the leaves in order.
func (n *qnode) leaves() []*qnode {
	if n.op == "" {
		return []*qnode{n}
	}
	var out []*qnode
	for _, k := range n.kids {
		out = append(out, k.leaves()...)
	}
	return out
}

// ---- KQL for messages ----

// kqlProps are the KQL properties Exchange knows; another "x:y" is free text.
var kqlProps = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "participants": true, "recipients": true,
	"subject": true, "body": true, "attachment": true, "hasattachments": true, "hasattachment": true,
	"importance": true, "received": true, "sent": true, "kind": true,
}

var restriction = regexp.MustCompile(`^([A-Za-z]+)(>=|<=|<>|:|=|>|<)(.+)$`)

// compileKQL turns an Outlook $search value into a message predicate.
func compileKQL(search string, now time.Time) (func(*message) bool, error) {
	outer, err := parseSearch(search, true)
	if err != nil {
		return nil, err
	}
	inner := map[*qnode]*qnode{}
	for _, leaf := range outer.leaves() {
		if !leaf.quoted {
			// Graph wants the whole expression in double quotes.
			return nil, searchSyntaxError(search, strings.Index(search, leaf.text))
		}
		if inner[leaf], err = parseSearch(leaf.text, false); err != nil {
			return nil, err
		}
	}
	return func(m *message) bool {
		return outer.eval(func(leaf *qnode) bool {
			return inner[leaf].eval(func(term *qnode) bool { return matchKQL(term, m, now) })
		})
	}, nil
}

// matchKQL evaluates one KQL term against a message.
func matchKQL(term *qnode, m *message, now time.Time) bool {
	if term.quoted {
		return m.freeText(term.text)
	}
	sub := restriction.FindStringSubmatch(term.text)
	if sub == nil || !kqlProps[strings.ToLower(sub[1])] {
		return m.freeText(term.text)
	}
	prop, op, value := strings.ToLower(sub[1]), sub[2], strings.Trim(sub[3], `"`)
	people := func(rs ...[]recipient) bool {
		for _, list := range rs {
			for _, r := range list {
				if wordMatch(r.Name+" "+r.Address, value) {
					return true
				}
			}
		}
		return false
	}
	switch prop {
	case "from":
		return people([]recipient{m.from})
	case "to":
		return people(m.to)
	case "cc":
		return people(m.cc)
	case "bcc":
		return people(m.bcc)
	case "recipients":
		return people(m.to, m.cc, m.bcc)
	case "participants":
		return people([]recipient{m.from}, m.to, m.cc, m.bcc)
	case "subject":
		return wordMatch(m.subject, value)
	case "body":
		return wordMatch(m.plain, value)
	case "attachment":
		for _, a := range m.attachments {
			if wordMatch(a.name, value) {
				return true
			}
		}
		return false
	case "hasattachments", "hasattachment":
		want := strings.EqualFold(value, "true") || strings.EqualFold(value, "yes")
		return m.hasAttachments() == want
	case "importance":
		return strings.EqualFold(m.importance, value)
	case "kind":
		switch strings.ToLower(value) {
		case "email":
			return m.meetingEvent == ""
		case "meetings":
			return m.meetingEvent != ""
		}
		return false
	case "received", "sent":
		t := m.received
		if prop == "sent" {
			t = m.sent
		}
		return matchDate(t, op, value, now)
	}
	return false
}

// matchDate applies a KQL date restriction: a day (2026-11-25, 11/25/2026),
// a range (a..b) or a keyword (today, yesterday, "this week", ...). A day
// is the whole UTC day: received>2026-11-20 means from the 21st on.
func matchDate(t time.Time, op, value string, now time.Time) bool {
	from, to, ok := dayRange(value, now)
	if !ok {
		return false
	}
	switch op {
	case ":", "=":
		return !t.Before(from) && t.Before(to)
	case ">=":
		return !t.Before(from)
	case ">":
		return !t.Before(to)
	case "<=":
		return t.Before(to)
	case "<":
		return t.Before(from)
	case "<>":
		return t.Before(from) || !t.Before(to)
	}
	return false
}

func dayRange(v string, now time.Time) (from, to time.Time, ok bool) {
	today := now.Truncate(24 * time.Hour)
	if a, b, isRange := strings.Cut(v, ".."); isRange {
		f, _, ok1 := dayRange(a, now)
		_, t, ok2 := dayRange(b, now)
		return f, t, ok1 && ok2
	}
	switch strings.ToLower(v) {
	case "today":
		return today, today.AddDate(0, 0, 1), true
	case "yesterday":
		return today.AddDate(0, 0, -1), today, true
	case "this week":
		start := today.AddDate(0, 0, -int(today.Weekday()))
		return start, start.AddDate(0, 0, 7), true
	case "last week":
		start := today.AddDate(0, 0, -int(today.Weekday())-7)
		return start, start.AddDate(0, 0, 7), true
	case "this month":
		start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0), true
	case "last month":
		start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		return start, start.AddDate(0, 1, 0), true
	}
	for _, layout := range []string{"2006-01-02", "1/2/2006", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05"} {
		if d, err := time.Parse(layout, v); err == nil {
			if strings.Contains(layout, "T") {
				return d.UTC(), d.UTC().Add(time.Second), true
			}
			return d, d.AddDate(0, 0, 1), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// normalize lower-cases text and folds typographic quotes to ASCII ones.
var normalize = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", `"`, "\u201d", `"`, "\u00a0", " ")

// wordMatch reports whether term occurs in text at the start of a word,
// case-insensitively, as Exchange's prefix matching does: "budg" finds
// "Budget", "obrien" finds "daniel.obrien@contoso.com", "dget" finds nothing.
// The start of a word is all a term matches: "limits" does not find
// "limit". KQL's wildcard ends a term ("limit*": what prefix matching does
// anyway); a * anywhere else is a character like any other, which no word
// has, and a lone * finds nothing.
func wordMatch(text, term string) bool {
	text = strings.ToLower(normalize.Replace(text))
	term = strings.ToLower(normalize.Replace(strings.Join(strings.Fields(term), " ")))
	if len(term) > 1 && strings.HasSuffix(term, "*") && term[len(term)-2] != ' ' {
		term = term[:len(term)-1]
	}
	if term == "" {
		return true
	}
	text = strings.Join(strings.Fields(text), " ")
	for i := 0; ; {
		j := strings.Index(text[i:], term)
		if j < 0 {
			return false
		}
		at := i + j
		if at == 0 {
			return true
		}
		prev, _ := utf8.DecodeLastRuneInString(text[:at])
		first, _ := utf8.DecodeRuneInString(term)
		if !isWordRune(prev) || !isWordRune(first) {
			return true
		}
		i = at + 1
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// describe is for debugging and error messages.
func (n *qnode) String() string {
	if n.op == "" {
		if n.quoted {
			return fmt.Sprintf("%q", n.text)
		}
		return n.text
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.String()
	}
	return "(" + n.op + " " + strings.Join(parts, " ") + ")"
}
