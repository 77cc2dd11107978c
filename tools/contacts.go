package tools

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// ---- find_contacts ----

type FindContactsArgs struct {
	Query string `json:"query" jsonschema_description:"Name, part of a name, or email address."`
	Limit int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50,default=10"`
}

type Contact struct {
	ID       string `json:"id,omitempty" handle:"c"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Source   string `json:"source" jsonschema:"enum=contacts,enum=people,enum=directory"`
	Company  string `json:"company,omitempty"`
	JobTitle string `json:"job_title,omitempty"`
	// Office and Phones come from every source that has them: a
	// colleague found only in the directory or people results has them
	// too.
	Office string   `json:"office,omitempty"`
	Phones []string `json:"phones,omitempty"`
}

type FindContactsResult struct {
	Contacts []Contact `json:"contacts"`
	Notes    []string  `json:"notes,omitempty" jsonschema_description:"Sources that were skipped or failed, and why."`
}

// contactSource is one place find_contacts looks, used only when the
// connection holds one of its scopes.
type contactSource struct {
	name    string
	scopes  []string
	ids     bool // its ids are contact ids, for get_contact
	request func(q string) (path string, query url.Values, header http.Header)
}

var contactSources = []contactSource{
	{"contacts", []string{"Contacts.Read", "Contacts.ReadWrite"}, true, func(q string) (string, url.Values, http.Header) {
		// Contacts have no $search: name prefixes, or an exact address.
		filter := fmt.Sprintf("startswith(displayName,%[1]s) or startswith(givenName,%[1]s) or startswith(surname,%[1]s) or startswith(companyName,%[1]s)", odataString(q))
		if simpleAddress.MatchString(q) {
			filter = "emailAddresses/any(a:a/address eq " + odataString(q) + ")"
		}
		return "/me/contacts", url.Values{"$filter": {filter}, "$select": {"id,displayName,emailAddresses,companyName,jobTitle,officeLocation,businessPhones,mobilePhone"}}, nil
	}},
	{"people", []string{"People.Read", "People.Read.All"}, false, func(q string) (string, url.Values, http.Header) {
		return "/me/people", url.Values{"$search": {`"` + plainTerm(q) + `"`}, "$select": {"displayName,scoredEmailAddresses,companyName,jobTitle,officeLocation,phones"}}, nil
	}},
	{"directory", []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, false, func(q string) (string, url.Values, http.Header) {
		term := plainTerm(q)
		return "/users", url.Values{
			"$search": {fmt.Sprintf(`"displayName:%[1]s" OR "mail:%[1]s"`, term)},
			"$select": {"displayName,mail,userPrincipalName,jobTitle,officeLocation,businessPhones,mobilePhone"},
		}, http.Header{"ConsistencyLevel": {"eventual"}} // directory search needs it
	}},
}

// anySourceScope: any source's scope will do, each source's least
// privileged first.
func anySourceScope() []string {
	var first, rest []string
	for _, src := range contactSources {
		first = append(first, src.scopes[0])
		rest = append(rest, src.scopes[1:]...)
	}
	return append(first, rest...)
}

// graphPerson is a contact, a person or a directory user: what
// find_contacts reads of each.
type graphPerson struct {
	ID                   string       `json:"id"`
	DisplayName          string       `json:"displayName"`
	EmailAddresses       []graphEmail `json:"emailAddresses"`
	ScoredEmailAddresses []graphEmail `json:"scoredEmailAddresses"`
	Mail                 string       `json:"mail"`
	UserPrincipalName    string       `json:"userPrincipalName"`
	CompanyName          string       `json:"companyName"`
	JobTitle             string       `json:"jobTitle"`
	OfficeLocation       string       `json:"officeLocation"`
	BusinessPhones       []string     `json:"businessPhones"` // contacts, directory
	MobilePhone          string       `json:"mobilePhone"`    // contacts, directory
	Phones               []struct {   // people
		Type   string `json:"type"`
		Number string `json:"number"`
	} `json:"phones"`
}

// phones are a person's numbers as "number (kind)", business first.
func (p graphPerson) phones() []string {
	var out []string
	labeled(&out, "business", p.BusinessPhones...)
	labeled(&out, "mobile", p.MobilePhone)
	for _, ph := range p.Phones {
		labeled(&out, cmp.Or(ph.Type, "other"), ph.Number)
	}
	return out
}

// labeled appends each non-blank value as "value (kind)".
func labeled(into *[]string, kind string, values ...string) {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			*into = append(*into, v+" ("+kind+")")
		}
	}
}

// search asks one source, one Contact per email address found.
func (src contactSource) search(ctx context.Context, c *Call, q string, limit int) ([]Contact, error) {
	path, query, header := src.request(q)
	query.Set("$top", strconv.Itoa(limit))
	var res graphPage[graphPerson]
	if err := get(ctx, c, path, "", query, header, &res); err != nil {
		return nil, err
	}
	var out []Contact
	for _, p := range res.Value {
		addresses := append(p.EmailAddresses, p.ScoredEmailAddresses...)
		if mail := firstNonEmpty(p.Mail, p.UserPrincipalName); mail != "" {
			addresses = append(addresses, graphEmail{Address: mail})
		}
		id := ""
		if src.ids {
			id = p.ID
		}
		for _, a := range addresses {
			out = append(out, Contact{ID: id, Name: p.DisplayName, Email: a.Address, Company: p.CompanyName, JobTitle: p.JobTitle,
				Office: strings.TrimSpace(p.OfficeLocation), Phones: p.phones()})
		}
	}
	return out, nil
}

var findContacts = define("find_contacts", "Find people",
	"Find people by name or email address: searches the user's contacts, the people they work with, and the organisation's directory (each when permitted). Returns name, email, source, job, company, office, phones; personal contacts also an id for get_contact.",
	anySourceScope(),
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in FindContactsArgs) (*FindContactsResult, error) {
		q := strings.TrimSpace(in.Query)
		if q == "" {
			return nil, argError("query", "is required")
		}
		if len(q) > 200 {
			return nil, argError("query", "is too long (at most 200 characters)")
		}
		limit, err := checkLimit(in.Limit, 10, 50)
		if err != nil {
			return nil, err
		}
		found := make([][]Contact, len(contactSources))
		errs := make([]error, len(contactSources))
		var wg sync.WaitGroup
		out := &FindContactsResult{Contacts: []Contact{}}
		for i, src := range contactSources {
			if !c.Granted.HasAny(src.scopes...) {
				out.Notes = append(out.Notes, fmt.Sprintf("%s not searched: needs %s", src.name, src.scopes[0]))
				continue
			}
			wg.Go(func() { found[i], errs[i] = src.search(ctx, c, q, limit) })
		}
		wg.Wait()
		attempted, failed := 0, 0
		var firstErr error
		seen := map[string]int{} // address → index in out.Contacts
		for i, src := range contactSources {
			if !c.Granted.HasAny(src.scopes...) {
				continue
			}
			attempted++
			if errs[i] != nil {
				failed++
				firstErr = cmp.Or(firstErr, errs[i])
				out.Notes = append(out.Notes, fmt.Sprintf("%s not searched: %s", src.name, sourceFailure(errs[i])))
				continue
			}
			for _, ct := range found[i] {
				key := strings.ToLower(ct.Email)
				if at, ok := seen[key]; ok {
					out.Contacts[at].fillFrom(ct)
					continue
				}
				if key == "" || len(out.Contacts) >= limit {
					continue
				}
				seen[key] = len(out.Contacts)
				ct.Source = src.name
				out.Contacts = append(out.Contacts, ct)
			}
		}
		if failed == attempted {
			// Every source failed: the failure is the answer.
			return nil, firstErr
		}
		return out, nil
	})

// fillFrom completes what the first source found of a person with what a
// later one knows: a contact saved with an address only gets the
// directory's title, office and phones.
func (ct *Contact) fillFrom(later Contact) {
	ct.Company = cmp.Or(ct.Company, later.Company)
	ct.JobTitle = cmp.Or(ct.JobTitle, later.JobTitle)
	ct.Office = cmp.Or(ct.Office, later.Office)
	if len(ct.Phones) == 0 {
		ct.Phones = later.Phones
	}
}

func sourceFailure(err error) string {
	e, ok := nango.AsError(err)
	switch {
	case !ok:
		return err.Error()
	case e.Kind == nango.KindAccessDenied:
		return "access denied (" + e.Code + ")"
	case e.Kind == nango.KindBadRequest:
		return "not available for this account (" + e.Code + ")"
	}
	return e.Error()
}

// plainTerm is q for a people or directory $search: those have no escape
// for a quote, and a name needs none, so quotes and backslashes go.
func plainTerm(q string) string {
	return strings.Join(strings.Fields(strings.NewReplacer(`"`, " ", `\`, " ").Replace(q)), " ")
}

// Text is one line per person, fenced as one block: names and titles come
// from contacts, the directory and people who wrote to the user.
func (r *FindContactsResult) Text() string {
	var b strings.Builder
	if len(r.Contacts) == 0 {
		b.WriteString("No matching people found.")
	}
	for i, ct := range r.Contacts {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i > 0 && ct.ID != "" && r.Contacts[i-1].ID == ct.ID {
			// Another address of the contact above: its details once.
			fmt.Fprintf(&b, "%s <%s> (%s, as above) id: as above", ct.Name, ct.Email, ct.Source)
			continue
		}
		fmt.Fprintf(&b, "%s <%s> (%s", ct.Name, ct.Email, ct.Source)
		for _, extra := range []string{ct.JobTitle, ct.Company} {
			if extra != "" {
				b.WriteString(", " + extra)
			}
		}
		if ct.Office != "" {
			b.WriteString("; office " + ct.Office)
		}
		if len(ct.Phones) > 0 {
			b.WriteString("; " + strings.Join(ct.Phones, ", "))
		}
		b.WriteString(")")
		if ct.ID != "" {
			b.WriteString(" id: " + ct.ID)
		}
	}
	text := b.String()
	if len(r.Contacts) > 0 {
		text = untrusted(text)
	}
	for _, n := range r.Notes {
		text += "\nNote: " + n
	}
	return text
}

// ---- get_contact, create_contact ----

type ContactResult struct {
	ID         string   `json:"id" handle:"c"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name,omitempty"`
	Surname    string   `json:"surname,omitempty"`
	Emails     []string `json:"emails"`
	Phones     []string `json:"phones,omitempty"`
	Company    string   `json:"company,omitempty"`
	JobTitle   string   `json:"job_title,omitempty"`
	Department string   `json:"department,omitempty"`
	Addresses  []string `json:"addresses,omitempty"`
	Birthday   string   `json:"birthday,omitempty"`
	Notes      string   `json:"notes,omitempty"`
}

// graphContact is a contact as get_contact selects it and create_contact
// receives it back.
type graphContact struct {
	ID              string       `json:"id"`
	DisplayName     string       `json:"displayName"`
	GivenName       string       `json:"givenName"`
	Surname         string       `json:"surname"`
	EmailAddresses  []graphEmail `json:"emailAddresses"`
	BusinessPhones  []string     `json:"businessPhones"`
	MobilePhone     string       `json:"mobilePhone"`
	HomePhones      []string     `json:"homePhones"`
	CompanyName     string       `json:"companyName"`
	JobTitle        string       `json:"jobTitle"`
	Department      string       `json:"department"`
	BusinessAddress graphAddress `json:"businessAddress"`
	HomeAddress     graphAddress `json:"homeAddress"`
	OtherAddress    graphAddress `json:"otherAddress"`
	Birthday        string       `json:"birthday"`
	PersonalNotes   string       `json:"personalNotes"`
}

type graphAddress struct {
	Street          string `json:"street"`
	City            string `json:"city"`
	State           string `json:"state"`
	PostalCode      string `json:"postalCode"`
	CountryOrRegion string `json:"countryOrRegion"`
}

// String is the address on one line: street, postal code and city, state, country.
func (a graphAddress) String() string {
	var parts []string
	for _, p := range []string{a.Street, strings.TrimSpace(a.PostalCode + " " + a.City), a.State, a.CountryOrRegion} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func (g *graphContact) result() *ContactResult {
	out := &ContactResult{
		ID: g.ID, Name: g.DisplayName, GivenName: g.GivenName, Surname: g.Surname, Emails: []string{},
		Company: g.CompanyName, JobTitle: g.JobTitle, Department: g.Department, Notes: strings.TrimSpace(g.PersonalNotes),
	}
	if t, err := time.Parse(time.RFC3339, g.Birthday); err == nil {
		out.Birthday = t.Format(time.DateOnly)
	}
	for _, e := range g.EmailAddresses {
		out.Emails = append(out.Emails, Person{Name: e.Name, Address: e.Address}.String())
	}
	// Phones and addresses read "value (kind)".
	labeled(&out.Phones, "business", g.BusinessPhones...)
	labeled(&out.Phones, "mobile", g.MobilePhone)
	labeled(&out.Phones, "home", g.HomePhones...)
	labeled(&out.Addresses, "business", g.BusinessAddress.String())
	labeled(&out.Addresses, "home", g.HomeAddress.String())
	labeled(&out.Addresses, "other", g.OtherAddress.String())
	return out
}

const contactFields = "id,displayName,givenName,surname,emailAddresses,businessPhones,mobilePhone,homePhones,companyName,jobTitle,department,businessAddress,homeAddress,otherAddress,birthday,personalNotes"

type GetContactArgs struct {
	ContactID string `json:"contact_id" handle:"c" jsonschema_description:"From find_contacts or create_contact."`
}

var getContact = define("get_contact", "Read a contact",
	"One of the user's personal contacts in full: names, emails, phones, company, job, addresses, birthday, notes.",
	[]string{"Contacts.Read", "Contacts.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in GetContactArgs) (*ContactResult, error) {
		id, err := itemID("contact_id", "a contact id", in.ContactID)
		if err != nil {
			return nil, err
		}
		var g graphContact
		if err := get(ctx, c, "/me/contacts/"+url.PathEscape(id), "", url.Values{"$select": {contactFields}}, nil, &g); err != nil {
			return nil, err
		}
		return g.result(), nil
	})

// Text fences the contact, notes and all, apart from its id.
func (r *ContactResult) Text() string {
	return untrusted(r.details()) + "\nid: " + r.ID
}

func (r *ContactResult) details() string {
	var b strings.Builder
	b.WriteString(r.Name)
	for _, extra := range []string{r.JobTitle, r.Department, r.Company} {
		if extra != "" {
			b.WriteString(", " + extra)
		}
	}
	for _, e := range r.Emails {
		b.WriteString("\nEmail: " + e)
	}
	for _, p := range r.Phones {
		b.WriteString("\nPhone: " + p)
	}
	for _, a := range r.Addresses {
		b.WriteString("\nAddress: " + a)
	}
	if r.Birthday != "" {
		b.WriteString("\nBirthday: " + r.Birthday)
	}
	if r.Notes != "" {
		b.WriteString("\nNotes: " + r.Notes)
	}
	return b.String()
}

type CreateContactArgs struct {
	Name     string   `max:"255" json:"name" jsonschema_description:"Ann Lee, or Lee, Ann."`
	Emails   []string `json:"emails,omitempty" jsonschema:"maxItems=3"`
	Phones   []string `json:"phones,omitempty" jsonschema:"maxItems=2" jsonschema_description:"Saved as business phones."`
	Company  string   `max:"255" json:"company,omitempty"`
	JobTitle string   `max:"255" json:"job_title,omitempty"`
}

// CreatedContact is the new contact as Outlook stored it.
type CreatedContact struct {
	ID       string   `json:"id" handle:"c"`
	Name     string   `json:"name"`
	Emails   []string `json:"emails"`
	Phones   []string `json:"phones,omitempty"`
	Company  string   `json:"company,omitempty"`
	JobTitle string   `json:"job_title,omitempty"`
}

// newContact is the body of POST /me/contacts.
type newContact struct {
	DisplayName    string       `json:"displayName"`
	GivenName      string       `json:"givenName,omitempty"`
	Surname        string       `json:"surname,omitempty"`
	EmailAddresses []graphEmail `json:"emailAddresses,omitempty"`
	BusinessPhones []string     `json:"businessPhones,omitempty"`
	CompanyName    string       `json:"companyName,omitempty"`
	JobTitle       string       `json:"jobTitle,omitempty"`
}

var phoneNumber = regexp.MustCompile(`^\+?[0-9(][0-9 ()./-]{2,39}$`)

var createContact = define("create_contact", "Create a contact",
	"Save a new contact in the user's Outlook contacts. Each call adds one: check find_contacts first. Returns the stored contact and its id.",
	[]string{"Contacts.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in CreateContactArgs) (*CreatedContact, error) {
		given, surname, err := splitName(in.Name)
		if err != nil {
			return nil, err
		}
		body := newContact{DisplayName: strings.TrimSpace(given + " " + surname), GivenName: given, Surname: surname,
			CompanyName: strings.TrimSpace(in.Company), JobTitle: strings.TrimSpace(in.JobTitle)}
		if len(in.Emails) > 3 {
			return nil, argError("emails", "an Outlook contact holds at most 3 email addresses, not %d", len(in.Emails))
		}
		for _, s := range in.Emails {
			a, err := parseRecipient("emails", s)
			if err != nil {
				return nil, err
			}
			body.EmailAddresses = append(body.EmailAddresses, graphEmail{Name: cmp.Or(a.Name, body.DisplayName), Address: a.Address})
		}
		if len(in.Phones) > 2 {
			return nil, argError("phones", "an Outlook contact holds at most 2 business phones, not %d", len(in.Phones))
		}
		for _, p := range in.Phones {
			p = strings.Join(strings.Fields(p), " ")
			if !phoneNumber.MatchString(p) {
				return nil, argError("phones", "%q is not a phone number (digits, spaces, + ( ) - . /)", p)
			}
			body.BusinessPhones = append(body.BusinessPhones, p)
		}
		var g graphContact
		// Not idempotent: a failure after Outlook acted is never retried.
		if err := c.Conn.Do(ctx, nango.Request{Method: http.MethodPost, Path: "/me/contacts", Body: body}, &g); err != nil {
			return nil, err
		}
		r := g.result()
		return &CreatedContact{ID: r.ID, Name: r.Name, Emails: r.Emails, Phones: r.Phones, Company: r.Company, JobTitle: r.JobTitle}, nil
	})

// splitName splits a full name into given name and surname: "Lee, Ann" is
// surname first; otherwise the last word is the surname, with the
// lower-case particles before it ("Ludwig van Beethoven").
func splitName(name string) (given, surname string, err error) {
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return "", "", argError("name", "is required")
	case len(name) > 200:
		return "", "", argError("name", "is too long (at most 200 characters)")
	case strings.ContainsAny(name, "<>@"):
		return "", "", argError("name", "is the person's name: put email addresses in emails")
	}
	if last, first, ok := strings.Cut(name, ","); ok {
		given, surname = strings.TrimSpace(first), strings.TrimSpace(last)
		if given+surname == "" {
			return "", "", argError("name", "is required")
		}
		return given, surname, nil
	}
	words := strings.Fields(name)
	if len(words) == 1 {
		return name, "", nil
	}
	i := len(words) - 1
	for i > 1 && unicode.IsLower([]rune(words[i-1])[0]) {
		i--
	}
	return strings.Join(words[:i], " "), strings.Join(words[i:], " "), nil
}

func (r *CreatedContact) Text() string {
	full := ContactResult{ID: r.ID, Name: r.Name, Emails: r.Emails, Phones: r.Phones, Company: r.Company, JobTitle: r.JobTitle}
	return "Contact created: " + full.details() + "\nid: " + r.ID // what the caller wrote: no fence
}
