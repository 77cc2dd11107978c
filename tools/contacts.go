package tools

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// ---- find_contacts ----

type FindContactsArgs struct {
	Query string `json:"query" jsonschema_description:"Name, part of a name, or email address."`
	Limit int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50,default=10"`
}

type Contact struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Source   string `json:"source" jsonschema:"enum=contacts,enum=people,enum=directory"`
	Company  string `json:"company,omitempty"`
	JobTitle string `json:"job_title,omitempty"`
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
	request func(q string) (path string, query url.Values, header http.Header)
}

var contactSources = []contactSource{
	{"contacts", []string{"Contacts.Read", "Contacts.ReadWrite"}, func(q string) (string, url.Values, http.Header) {
		// Contacts have no $search: name prefixes, or an exact address.
		filter := fmt.Sprintf("startswith(displayName,%[1]s) or startswith(givenName,%[1]s) or startswith(surname,%[1]s) or startswith(companyName,%[1]s)", odataString(q))
		if simpleAddress.MatchString(q) {
			filter = "emailAddresses/any(a:a/address eq " + odataString(q) + ")"
		}
		return "/me/contacts", url.Values{"$filter": {filter}, "$select": {"displayName,emailAddresses,companyName,jobTitle"}}, nil
	}},
	{"people", []string{"People.Read", "People.Read.All"}, func(q string) (string, url.Values, http.Header) {
		return "/me/people", url.Values{"$search": {`"` + plainTerm(q) + `"`}, "$select": {"displayName,scoredEmailAddresses,companyName,jobTitle"}}, nil
	}},
	{"directory", []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, func(q string) (string, url.Values, http.Header) {
		term := plainTerm(q)
		return "/users", url.Values{
			"$search": {fmt.Sprintf(`"displayName:%[1]s" OR "mail:%[1]s"`, term)},
			"$select": {"displayName,mail,userPrincipalName,jobTitle"},
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
	DisplayName          string       `json:"displayName"`
	EmailAddresses       []graphEmail `json:"emailAddresses"`
	ScoredEmailAddresses []graphEmail `json:"scoredEmailAddresses"`
	Mail                 string       `json:"mail"`
	UserPrincipalName    string       `json:"userPrincipalName"`
	CompanyName          string       `json:"companyName"`
	JobTitle             string       `json:"jobTitle"`
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
		for _, a := range addresses {
			out = append(out, Contact{Name: p.DisplayName, Email: a.Address, Company: p.CompanyName, JobTitle: p.JobTitle})
		}
	}
	return out, nil
}

var findContacts = define("find_contacts",
	"Find people by name or email address to get their address: searches the user's contacts, the people they work with, and the organisation's directory (each when permitted). Returns name, email, source, company and job title.",
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
		seen := map[string]bool{}
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
				if key == "" || seen[key] || len(out.Contacts) >= limit {
					continue
				}
				seen[key] = true
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

func (r *FindContactsResult) Text() string {
	var b strings.Builder
	if len(r.Contacts) == 0 {
		b.WriteString("No matching people found.")
	}
	for i, ct := range r.Contacts {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s <%s> (%s", ct.Name, ct.Email, ct.Source)
		for _, extra := range []string{ct.JobTitle, ct.Company} {
			if extra != "" {
				b.WriteString(", " + extra)
			}
		}
		b.WriteString(")")
	}
	for _, n := range r.Notes {
		b.WriteString("\nNote: " + n)
	}
	return b.String()
}
