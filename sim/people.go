package sim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// user is a directory user, and the mailbox owner (/me).
type user struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	Mail              *string  `json:"mail"` // null for some accounts: fall back to userPrincipalName
	UserPrincipalName string   `json:"userPrincipalName"`
	JobTitle          string   `json:"jobTitle"`
	Department        string   `json:"department"`
	OfficeLocation    string   `json:"officeLocation"`
	CompanyName       string   `json:"companyName"`
	BusinessPhones    []string `json:"businessPhones"`
	MobilePhone       string   `json:"mobilePhone"`
	PreferredLanguage string   `json:"preferredLanguage"`
}

func (u *user) mailAddress() string {
	if u.Mail != nil && *u.Mail != "" {
		return *u.Mail
	}
	return u.UserPrincipalName
}

// userType is microsoft.graph.user as the directory serves it: department
// and companyName are outside the default property set.
var userType = &entityType[*user]{
	entityInfo: entityInfo{
		name: "Microsoft.DirectoryServices.User",
		props: []string{"id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "jobTitle",
			"officeLocation", "businessPhones", "mobilePhone", "preferredLanguage", "department", "companyName"},
		hidden:     []string{"department", "companyName"},
		keep:       []string{"id"},
		selectCode: "Request_BadRequest",
		filterCode: "Request_UnsupportedQuery",
		funcs:      []string{"startswith"},
	},
	fields: map[string]field[*user]{
		"displayname":       strField(func(u *user) string { return u.DisplayName }),
		"givenname":         strField(func(u *user) string { return u.GivenName }),
		"surname":           strField(func(u *user) string { return u.Surname }),
		"mail":              strField(func(u *user) string { return u.mailAddress() }),
		"userprincipalname": strField(func(u *user) string { return u.UserPrincipalName }),
		"jobtitle":          strField(func(u *user) string { return u.JobTitle }),
		"department":        strField(func(u *user) string { return u.Department }),
		"officelocation":    strField(func(u *user) string { return u.OfficeLocation }),
	},
	order: func(a, b *user) int {
		return strings.Compare(strings.ToLower(a.UserPrincipalName), strings.ToLower(b.UserPrincipalName))
	},
}

func userJSON(u *user) map[string]any {
	return map[string]any{
		"id":                u.ID,
		"displayName":       u.DisplayName,
		"givenName":         nullable(u.GivenName),
		"surname":           nullable(u.Surname),
		"mail":              u.Mail,
		"userPrincipalName": u.UserPrincipalName,
		"jobTitle":          nullable(u.JobTitle),
		"officeLocation":    nullable(u.OfficeLocation),
		"businessPhones":    strs(u.BusinessPhones),
		"mobilePhone":       nullable(u.MobilePhone),
		"preferredLanguage": nullable(u.PreferredLanguage),
		"department":        nullable(u.Department),
		"companyName":       nullable(u.CompanyName),
	}
}

// GET /me
func (s *Sim) getMe(g *graphReq) (*reply, error) {
	me := *s.box.me
	if s.opts.PersonalAccount {
		// A Microsoft account has no directory profile: no mail, no job.
		me.Mail, me.JobTitle, me.OfficeLocation, me.Department, me.CompanyName = nil, "", "", "", ""
		me.BusinessPhones = nil
	}
	return entity(g, &userType.entityInfo, "users/$entity", userJSON(&me))
}

// errPersonal is what the directory answers a Microsoft personal account.
var errPersonal = badRequest("The query specified in the URI is not valid. Could not find a property named 'displayName' on type 'Microsoft.Fast.Profile.Web.Models._1._0.Profile'.")

// GET /users: the directory. $search needs ConsistencyLevel: eventual and
// reads "property:value" clauses joined by OR / AND.
func (s *Sim) listUsers(g *graphReq) (*reply, error) {
	if s.opts.PersonalAccount {
		return nil, errPersonal
	}
	eventual := strings.EqualFold(strings.TrimSpace(g.header.Get("ConsistencyLevel")), "eventual")
	items := append([]*user{s.box.me}, s.box.users...)
	if g.query.Has("$search") {
		if !eventual {
			return nil, gerr(400, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		q, err := parseSearch(g.query.Get("$search"), true)
		if err != nil {
			return nil, err
		}
		for _, leaf := range q.leaves() {
			prop, _, ok := strings.Cut(leaf.text, ":")
			if !leaf.quoted || !ok {
				return nil, gerr(400, "Request_UnsupportedQuery", "Unrecognized search clause '%s'. Use \"property:value\", e.g. $search=\"displayName:ann\".", leaf.text)
			}
			if _, ok := userType.fields[strings.ToLower(prop)]; !ok {
				return nil, gerr(400, "Request_UnsupportedQuery", "Unsupported or invalid search clause specified for property '%s' of resource 'User'.", prop)
			}
		}
		var kept []*user
		for _, u := range items {
			if q.eval(func(leaf *qnode) bool {
				prop, value, _ := strings.Cut(leaf.text, ":")
				return wordMatch(userType.fields[strings.ToLower(prop)].get(u).(string), value)
			}) {
				kept = append(kept, u)
			}
		}
		items = kept
	}
	if g.query.Has("$count") && !eventual {
		return nil, gerr(400, "Request_BadRequest", "$count is not currently supported.")
	}
	return listEntities(g, userType, items, listOptions{context: "users", paging: pageSkipToken, defaultTop: 100, maxTop: 999}, userJSON)
}

// GET /users/{id or userPrincipalName}
func (s *Sim) getUser(g *graphReq) (*reply, error) {
	if s.opts.PersonalAccount {
		return nil, errPersonal
	}
	id := g.params["user"]
	for _, u := range append([]*user{s.box.me}, s.box.users...) {
		if u.ID == id || strings.EqualFold(u.UserPrincipalName, id) {
			return entity(g, &userType.entityInfo, "users/$entity", userJSON(u))
		}
	}
	return nil, gerr(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// contact is an Outlook contact.
type contact struct {
	rawContact
	immID   string
	created time.Time
	emails  []recipient
}

var contactType = &entityType[*contact]{
	entityInfo: entityInfo{
		name: "microsoft.graph.contact",
		props: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "parentFolderId",
			"birthday", "fileAs", "displayName", "givenName", "initials", "middleName", "nickName", "surname", "title",
			"generation", "imAddresses", "jobTitle", "companyName", "department", "officeLocation", "profession",
			"businessHomePage", "assistantName", "manager", "homePhones", "mobilePhone", "businessPhones", "personalNotes",
			"spouseName", "children", "emailAddresses", "homeAddress", "businessAddress", "otherAddress"},
		keep:       []string{"@odata.etag", "id"},
		selectCode: "RequestBroker--ParseUri",
		filterCode: "ErrorInvalidUrlQueryFilter",
		funcs:      []string{"startswith"}, // Exchange cannot do contains() on contacts
	},
	fields: map[string]field[*contact]{
		"displayname":     strField(func(c *contact) string { return c.DisplayName }),
		"givenname":       strField(func(c *contact) string { return c.GivenName }),
		"surname":         strField(func(c *contact) string { return c.Surname }),
		"companyname":     strField(func(c *contact) string { return c.CompanyName }),
		"jobtitle":        strField(func(c *contact) string { return c.JobTitle }),
		"createddatetime": timeField(func(c *contact) time.Time { return c.created }),
	},
	lambdas: map[string]lambda[*contact]{
		"emailaddresses": {kinds: map[string]valueKind{"address": kindString, "name": kindString}, elems: func(c *contact) []map[string]any {
			var out []map[string]any
			for _, e := range c.emails {
				out = append(out, map[string]any{"address": e.Address, "name": e.Name})
			}
			return out
		}},
	},
}

func (s *Sim) contactJSON(c *contact, immutable bool) map[string]any {
	emails := make([]any, 0, len(c.emails))
	for _, e := range c.emails {
		emails = append(emails, map[string]any{"name": e.Name, "address": e.Address})
	}
	return map[string]any{
		"@odata.etag":          etag(derivedID("EQAAABYAAAC", "contact", c.ID)[:40]),
		"id":                   pickID(immutable, c.ID, c.immID),
		"createdDateTime":      isoZ(c.created),
		"lastModifiedDateTime": isoZ(c.created.Add(26 * time.Hour)),
		"changeKey":            derivedID("EQAAABYAAAC", "contact", c.ID)[:40],
		"categories":           strs(c.Categories),
		"parentFolderId":       s.box.contactFolderID,
		"birthday":             nullable(c.Birthday),
		"fileAs":               cmp.Or(joinNonEmpty(", ", c.Surname, c.GivenName), c.DisplayName),
		"displayName":          c.DisplayName,
		"givenName":            nullable(c.GivenName),
		"initials":             nil,
		"middleName":           nil,
		"nickName":             nil,
		"surname":              nullable(c.Surname),
		"title":                nil,
		"generation":           nil,
		"imAddresses":          []string{},
		"jobTitle":             nullable(c.JobTitle),
		"companyName":          nullable(c.CompanyName),
		"department":           nullable(c.Department),
		"officeLocation":       nullable(c.OfficeLocation),
		"profession":           nil,
		"businessHomePage":     nil,
		"assistantName":        nil,
		"manager":              nil,
		"homePhones":           []string{},
		"mobilePhone":          nullable(c.MobilePhone),
		"businessPhones":       strs(c.BusinessPhones),
		"personalNotes":        c.PersonalNotes,
		"spouseName":           nil,
		"children":             []string{},
		"emailAddresses":       emails,
		"homeAddress":          c.HomeAddress,
		"businessAddress":      c.BusinessAddress,
		"otherAddress":         physicalAddress{},
	}
}

// physicalAddress is a contact's postal address; Graph writes an empty one as {}.
type physicalAddress struct {
	Street          string `json:"street,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	CountryOrRegion string `json:"countryOrRegion,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// GET /me/contacts
func (s *Sim) listContacts(g *graphReq) (*reply, error) {
	imm := g.immutableIDs()
	return listEntities(g, contactType, s.box.contacts, listOptions{context: s.mePath() + "/contacts"}, func(c *contact) map[string]any {
		return s.contactJSON(c, imm)
	})
}

// GET /me/contacts/{id}
func (s *Sim) getContact(g *graphReq) (*reply, error) {
	imm := g.immutableIDs()
	c, err := lookup(s.box.contacts, g.params["id"], func(c *contact) (string, string) { return c.ID, c.immID })
	if err != nil {
		return nil, err
	}
	return entity(g, &contactType.entityInfo, s.mePath()+"/contacts/$entity", s.contactJSON(c, imm))
}

// contactWritable are the contact properties the simulator stores; the
// other properties of a contact are accepted and dropped.
var contactWritable = []string{"displayName", "givenName", "surname", "emailAddresses", "businessPhones", "mobilePhone",
	"companyName", "jobTitle", "department", "officeLocation", "categories", "personalNotes", "birthday", "businessAddress", "homeAddress"}

// POST /me/contacts: 201 with the new contact. Exchange derives the display
// name from the parts of the name; a contact needs some name. (Graph's
// exact answer to a nameless contact is not documented: this is ours.)
func (s *Sim) createContact(g *graphReq) (*reply, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(g.body, &props); err != nil {
		return nil, badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	for name := range props {
		if !slices.Contains(contactWritable, name) {
			if !slices.Contains(contactType.props, name) && !strings.HasPrefix(name, "@odata.") {
				return nil, gerr(400, "RequestBodyRead", "The property '%s' does not exist on type 'microsoft.graph.contact'. Make sure to only use property names that are defined by the type or mark the type as open type.", name)
			}
			delete(props, name)
		}
	}
	var in struct {
		rawContact
		EmailAddresses []struct {
			Address string `json:"address"`
			Name    string `json:"name"`
		} `json:"emailAddresses"`
	}
	if err := strictJSON(marshal(props), &in, "microsoft.graph.contact"); err != nil {
		return nil, err
	}
	c := &contact{rawContact: in.rawContact, created: g.now.Truncate(time.Second)}
	c.DisplayName = cmp.Or(strings.TrimSpace(c.DisplayName), joinNonEmpty(" ", c.GivenName, c.Surname))
	if c.DisplayName == "" {
		return nil, gerr(400, "ErrorInvalidRequest", "A contact needs a name: set displayName, givenName or surname.")
	}
	if c.Birthday != "" {
		if _, err := time.Parse(time.RFC3339, c.Birthday); err != nil {
			return nil, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", c.Birthday)
		}
	}
	for _, e := range in.EmailAddresses {
		addr := strings.TrimSpace(e.Address)
		if addr == "" {
			return nil, gerr(400, "ErrorInvalidRequest", "An email address of the contact has no address.")
		}
		c.emails = append(c.emails, recipient{Name: cmp.Or(e.Name, addr), Address: addr})
	}
	s.seq++
	c.ID = derivedID("AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhBwBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAEOAABCk7Hq2yR9uS5aT0dLmVw3xAA", "contact", strconv.Itoa(s.seq), g.reqID)
	c.immID = immutableID(c.ID)
	s.box.contacts = append(s.box.contacts, c)
	rep, err := entity(g, &contactType.entityInfo, s.mePath()+"/contacts/$entity", s.contactJSON(c, g.immutableIDs()))
	if err == nil {
		rep.status = http.StatusCreated
	}
	return rep, err
}

// person is a relevance-ranked entry of /me/people; fixture order is rank.
type person struct {
	rawPerson
	rank int
}

var personType = &entityType[*person]{
	entityInfo: entityInfo{
		name: "microsoft.graph.person",
		props: []string{"id", "displayName", "givenName", "surname", "birthday", "personNotes", "isFavorite", "jobTitle",
			"companyName", "yomiCompany", "department", "officeLocation", "profession", "userPrincipalName", "imAddress",
			"scoredEmailAddresses", "phones", "postalAddresses", "websites", "personType"},
		keep:       []string{"id"},
		selectCode: "RequestBroker--ParseUri",
		filterCode: "ErrorInvalidUrlQueryFilter",
	},
	fields: map[string]field[*person]{
		"displayname":         strField(func(p *person) string { return p.DisplayName }),
		"companyname":         strField(func(p *person) string { return p.CompanyName }),
		"jobtitle":            strField(func(p *person) string { return p.JobTitle }),
		"persontype/class":    strField(func(p *person) string { return "Person" }),
		"persontype/subclass": strField(func(p *person) string { return cmp.Or(p.Subclass, "OrganizationUser") }),
	},
}

func personJSON(p *person) map[string]any {
	scored := make([]any, 0, len(p.EmailAddresses))
	for i, a := range p.EmailAddresses {
		score := max(1, 30-2*p.rank-5*i)
		scored = append(scored, map[string]any{"address": a, "relevanceScore": float64(score), "selectionLikelihood": "notSpecified"})
	}
	phones := []any{}
	if p.Phone != "" {
		phones = append(phones, map[string]any{"type": "business", "number": p.Phone})
	}
	if p.MobilePhone != "" {
		phones = append(phones, map[string]any{"type": "mobile", "number": p.MobilePhone})
	}
	return map[string]any{
		"id":                   p.ID,
		"displayName":          p.DisplayName,
		"givenName":            nullable(p.GivenName),
		"surname":              nullable(p.Surname),
		"birthday":             "",
		"personNotes":          "",
		"isFavorite":           false,
		"jobTitle":             nullable(p.JobTitle),
		"companyName":          nullable(p.CompanyName),
		"yomiCompany":          "",
		"department":           nullable(p.Department),
		"officeLocation":       nullable(p.OfficeLocation),
		"profession":           "",
		"userPrincipalName":    p.UserPrincipalName,
		"imAddress":            nullable(strings.ToLower(p.UserPrincipalName)),
		"scoredEmailAddresses": scored,
		"phones":               phones,
		"postalAddresses":      []any{},
		"websites":             []any{},
		"personType":           map[string]any{"class": "Person", "subclass": cmp.Or(p.Subclass, "OrganizationUser")},
	}
}

// GET /me/people: $search matches the start of any word of the name or
// address, every word of the query must match; results keep rank order.
func (s *Sim) listPeople(g *graphReq) (*reply, error) {
	items := s.box.people
	if g.query.Has("$search") {
		raw := strings.TrimSpace(g.query.Get("$search"))
		text := raw
		if strings.HasPrefix(raw, `"`) {
			q, err := parseSearch(raw, true)
			if err != nil {
				return nil, err
			}
			var words []string
			for _, leaf := range q.leaves() {
				words = append(words, leaf.text)
			}
			text = strings.Join(words, " ")
		}
		var kept []*person
		for _, p := range items {
			hay := p.DisplayName + " " + p.GivenName + " " + p.Surname + " " + strings.Join(p.EmailAddresses, " ")
			all := true
			for _, w := range strings.Fields(text) {
				all = all && wordMatch(hay, w)
			}
			if all {
				kept = append(kept, p)
			}
		}
		items = kept
	}
	return listEntities(g, personType, items, listOptions{context: s.mePath() + "/people", paging: pageNone}, personJSON)
}
