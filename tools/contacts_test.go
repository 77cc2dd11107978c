package tools

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

func TestFindContactsSearchesEveryPermittedSource(t *testing.T) {
	h := newHarness(t)
	var res FindContactsResult
	h.ok("find_contacts", map[string]any{"query": "a", "limit": 50}, &res)
	sources := map[string]bool{}
	seen := map[string]bool{}
	for _, c := range res.Contacts {
		sources[c.Source] = true
		assert.NotEmpty(t, c.Email)
		assert.False(t, seen[c.Email], "%s listed twice", c.Email)
		seen[c.Email] = true
	}
	assert.Equal(t, map[string]bool{"contacts": true, "people": true, "directory": true}, sources)

	assert.Equal(t, "eventual", h.lastGraph("/v1.0/users").Header.Get("ConsistencyLevel"), "directory search needs it")
	assert.Contains(t, h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"), "startswith(displayName,'a')")
	assert.Equal(t, `"a"`, h.lastGraph("/v1.0/me/people").Query.Get("$search"))
}

func TestFindContactsUsesOnlyGrantedSources(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Contacts.Read"))
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "a"}, &res)
	for _, c := range res.Contacts {
		assert.Equal(t, "contacts", c.Source)
	}
	assert.Empty(t, h.graph("/v1.0/me/people"))
	assert.Empty(t, h.graph("/v1.0/users"))
	assert.Contains(t, text, "people not searched: needs People.Read")
	assert.Contains(t, text, "directory not searched: needs User.ReadBasic.All")
}

func TestFindContactsByAddressAndHostileQuery(t *testing.T) {
	h := newHarness(t)
	var all FindContactsResult
	h.ok("find_contacts", map[string]any{"query": "a", "limit": 50}, &all)
	var personal string
	for _, c := range all.Contacts {
		if c.Source == "contacts" {
			personal = c.Email
			break
		}
	}
	require.NotEmpty(t, personal)
	var res FindContactsResult
	h.ok("find_contacts", map[string]any{"query": personal}, &res)
	require.NotEmpty(t, res.Contacts)
	assert.Equal(t, personal, res.Contacts[0].Email)
	assert.Equal(t, "emailAddresses/any(a:a/address eq '"+personal+"')", h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"))

	h.ok("find_contacts", map[string]any{"query": `O'Brien" OR "mail:x`}, nil)
	assert.Contains(t, h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"), `startswith(displayName,'O''Brien" OR "mail:x')`)
	assert.Equal(t, `"displayName:O'Brien OR mail:x" OR "mail:O'Brien OR mail:x"`, h.lastGraph("/v1.0/users").Query.Get("$search"), "a quote cannot close the clause")
	assert.Equal(t, `"O'Brien OR mail:x"`, h.lastGraph("/v1.0/me/people").Query.Get("$search"))
}

func TestFindContactsOnAPersonalAccountSkipsTheDirectory(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.PersonalAccount = true }))
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "a"}, &res)
	assert.NotEmpty(t, res.Contacts)
	assert.Contains(t, text, "directory not searched")
}

func TestFindContactsNeedsAQuery(t *testing.T) {
	h := newHarness(t)
	assert.Contains(t, h.fails("find_contacts", map[string]any{"query": "  "}), `"query": is required`)
	assert.Contains(t, h.fails("find_contacts", map[string]any{}), `"query": is required`)
}

// personalContact finds a personal contact by query and returns its id.
func personalContact(h *harness, query string) string {
	h.t.Helper()
	var res FindContactsResult
	h.ok("find_contacts", map[string]any{"query": query}, &res)
	for _, c := range res.Contacts {
		if c.Source == "contacts" {
			return c.ID
		}
	}
	h.t.Fatalf("no personal contact for %q in %+v", query, res.Contacts)
	return ""
}

func TestFindContactsGivesIDsOfPersonalContactsOnly(t *testing.T) {
	h := newHarness(t)
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "a", "limit": 50}, &res)
	for _, c := range res.Contacts {
		assert.Equal(t, c.Source == "contacts", c.ID != "", "%+v", c)
	}
	assert.Regexp(t, `Rosa Alvarez <rosa.alvarez@margiestravel.com> \(contacts, Corporate Travel Agent, Margie's Travel; \+44 20 7946 0186 \(business\)\) id: c[0-9a-z]{9}\n`, text)
	assert.Equal(t, "id,displayName,emailAddresses,companyName,jobTitle,officeLocation,businessPhones,mobilePhone", h.lastGraph("/v1.0/me/contacts").Query.Get("$select"))

	text = h.ok("find_contacts", map[string]any{"query": "petrova"}, nil)
	assert.Contains(t, text, "<e.petrova@fabrikam.de> (contacts, as above) id: as above", "a second address of the same contact repeats neither its details nor its id")
}

func TestFindContactsGivesPhonesAndOfficeFromEverySource(t *testing.T) {
	h := newHarness(t)
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "ravi"}, &res)
	require.Len(t, res.Contacts, 1)
	ravi := res.Contacts[0]
	assert.Equal(t, "directory", ravi.Source, "found only in the directory")
	assert.Equal(t, "London G/011", ravi.Office)
	assert.Equal(t, []string{"+44 20 7946 0166 (business)"}, ravi.Phones)
	assert.Contains(t, text, "; office London G/011; +44 20 7946 0166 (business))")
	assert.Equal(t, "displayName,mail,userPrincipalName,jobTitle,officeLocation,businessPhones,mobilePhone", h.lastGraph("/v1.0/users").Query.Get("$select"))
	assert.Equal(t, "displayName,scoredEmailAddresses,companyName,jobTitle,officeLocation,phones", h.lastGraph("/v1.0/me/people").Query.Get("$select"))

	lukas := []string{"+49 30 5550 1207 (business)", "+49 151 5550 1207 (mobile)"}
	h.ok("find_contacts", map[string]any{"query": "lukas"}, &res)
	require.Len(t, res.Contacts, 1)
	assert.Equal(t, Contact{Name: "Lukas Becker", Email: "lukas.becker@contoso.com", Source: "people", Company: "Contoso Ltd.",
		JobTitle: "Senior Software Engineer", Office: "Berlin 3.21", Phones: lukas}, res.Contacts[0], "the people source's phones, with their kinds")

	dir := newHarness(t, withScopes("User.Read", "User.ReadBasic.All"))
	dir.ok("find_contacts", map[string]any{"query": "lukas"}, &res)
	require.Len(t, res.Contacts, 1)
	assert.Equal(t, "directory", res.Contacts[0].Source)
	assert.Equal(t, "Berlin 3.21", res.Contacts[0].Office)
	assert.Equal(t, lukas, res.Contacts[0].Phones)

	h.ok("find_contacts", map[string]any{"query": "kenji"}, &res)
	require.Len(t, res.Contacts, 1)
	assert.Equal(t, "contacts", res.Contacts[0].Source)
	assert.Equal(t, "London 2/410", res.Contacts[0].Office, "a personal contact without an office gets the one the people results know")
	assert.Equal(t, []string{"+44 20 7946 0124 (business)"}, res.Contacts[0].Phones)
}

func TestGetContact(t *testing.T) {
	h := newHarness(t)
	id := personalContact(h, "Petrova")
	var c ContactResult
	text := h.ok("get_contact", map[string]any{"contact_id": id}, &c)
	assert.Equal(t, ContactResult{
		ID: id, Name: "Elena Petrova", GivenName: "Elena", Surname: "Petrova",
		Emails:  []string{"Elena Petrova <elena.petrova@fabrikam.com>", "Elena Petrova (Fabrikam Berlin) <e.petrova@fabrikam.de>"},
		Phones:  []string{"+49 30 5550 1842 (business)", "+49 151 5550 2291 (mobile)"},
		Company: "Fabrikam, Inc.", JobTitle: "Head of Platform Engineering",
		Addresses: []string{"Friedrichstraße 68, 10117 Berlin, Germany (business)"},
		Birthday:  "1986-05-14", Notes: "Atlas champion at Fabrikam. Prefers email over calls.",
	}, c)
	assert.Contains(t, text, "Elena Petrova, Head of Platform Engineering, Fabrikam, Inc.\nEmail: Elena Petrova <elena.petrova@fabrikam.com>")
	assert.Contains(t, text, "\nBirthday: 1986-05-14\nNotes: Atlas champion")
	assert.Equal(t, contactFields, h.lastGraph("/v1.0/me/contacts/").Query.Get("$select"))

	assert.Contains(t, h.fails("get_contact", map[string]any{"contact_id": "AAMkNoSuchContactAAAAAAAAAA="}), "Not found")
	assert.Contains(t, h.fails("get_contact", map[string]any{"contact_id": "../../me/messages"}), `Invalid argument "contact_id"`)
	assert.Empty(t, h.graph("/v1.0/me/messages"), "the id stays one path segment")
	assert.Contains(t, h.fails("get_contact", map[string]any{}), `"contact_id": is required`)
}

func TestCreateContact(t *testing.T) {
	h := newHarness(t)
	var created CreatedContact
	text := h.ok("create_contact", map[string]any{
		"name": "  Ann   Lee ", "emails": []string{"ann.lee@example.com", "Ann at home <ann@lee.example>"},
		"phones": []string{"+1 (206) 555-0100"}, "company": "Example Co", "job_title": "CFO",
	}, &created)
	req := h.lastGraph("/v1.0/me/contacts")
	assert.Equal(t, "POST", req.Method)
	assert.JSONEq(t, `{"displayName":"Ann Lee","givenName":"Ann","surname":"Lee",
		"emailAddresses":[{"address":"ann.lee@example.com","name":"Ann Lee"},{"address":"ann@lee.example","name":"Ann at home"}],
		"businessPhones":["+1 (206) 555-0100"],"companyName":"Example Co","jobTitle":"CFO"}`, string(req.Body))
	require.NotEmpty(t, created.ID)
	assert.Equal(t, []string{"Ann Lee <ann.lee@example.com>", "Ann at home <ann@lee.example>"}, created.Emails)
	assert.Equal(t, []string{"+1 (206) 555-0100 (business)"}, created.Phones)
	assert.True(t, strings.HasPrefix(text, "Contact created: Ann Lee, CFO, Example Co\nEmail: Ann Lee <ann.lee@example.com>"), text)
	assert.Contains(t, text, "\nid: "+created.ID)

	// The new contact is found and read back.
	assert.Equal(t, created.ID, personalContact(h, "ann.lee@example.com"))
	var c ContactResult
	h.ok("get_contact", map[string]any{"contact_id": created.ID}, &c)
	assert.Equal(t, "Ann Lee", c.Name)
	assert.Equal(t, "CFO", c.JobTitle)
	assert.Equal(t, created.Phones, c.Phones)
}

func TestCreateContactSplitsNames(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ name, body string }{
		{"Lee, Ann", `{"displayName":"Ann Lee","givenName":"Ann","surname":"Lee"}`},
		{"Ludwig van Beethoven", `{"displayName":"Ludwig van Beethoven","givenName":"Ludwig","surname":"van Beethoven"}`},
		{"Mary Ann Smith", `{"displayName":"Mary Ann Smith","givenName":"Mary Ann","surname":"Smith"}`},
		{"Cher", `{"displayName":"Cher","givenName":"Cher"}`},
	} {
		h.ok("create_contact", map[string]any{"name": tc.name}, nil)
		assert.JSONEq(t, tc.body, string(h.lastGraph("/v1.0/me/contacts").Body), tc.name)
	}
}

func TestCreateContactRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": " "}, `"name": is required`},
		{map[string]any{"name": ","}, `"name": is required`},
		{map[string]any{"name": "Ann Lee <ann@example.com>"}, `"name": is the person's name`},
		{map[string]any{"name": "Ann Lee", "emails": []string{"ann at example"}}, `"emails": "ann at example" is not an email address`},
		{map[string]any{"name": "Ann Lee", "emails": []string{"a@x.com", "b@x.com", "c@x.com", "d@x.com"}}, `"emails": an Outlook contact holds at most 3 email addresses, not 4`},
		{map[string]any{"name": "Ann Lee", "phones": []string{"call me"}}, `"phones": "call me" is not a phone number`},
		{map[string]any{"name": "Ann Lee", "phones": []string{"1 234", "2 345", "3 456"}}, `"phones": an Outlook contact holds at most 2 business phones, not 3`},
		{map[string]any{"name": "Ann Lee", "emails": "ann@example.com"}, `"emails": must be a list`},
	} {
		assert.Contains(t, h.fails("create_contact", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/contacts"), "bad input never reaches Outlook")
}

func TestCreateContactNeedsContactsReadWrite(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Contacts.Read"))
	msg := h.fails("create_contact", map[string]any{"name": "Ann Lee"})
	assert.Contains(t, msg, "create_contact needs the Microsoft Graph delegated permission Contacts.ReadWrite,")
	assert.Empty(t, h.graph("/v1.0/me/contacts"))
	h.ok("get_contact", map[string]any{"contact_id": personalContact(h, "Petrova")}, nil)
}

func TestCreateContactIsNeverRepeated(t *testing.T) {
	h := newHarness(t)
	h.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/contacts", Status: 503, AfterEffect: true})
	msg := h.fails("create_contact", map[string]any{"name": "Ann Lee"})
	assert.Contains(t, msg, "may or may not have taken effect")
	assert.Len(t, h.graph("/v1.0/me/contacts"), 1, "a create is not retried after a 5xx")
}
