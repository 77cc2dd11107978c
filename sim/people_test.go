package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateContact(t *testing.T) {
	s := newSim(t)
	body := `{"givenName":"Ann","surname":"Lee","emailAddresses":[{"address":"ann.lee@example.com","name":"Ann Lee"},{"address":"ann@lee.example"}],` +
		`"businessPhones":["+1 206 555 0100"],"companyName":"Example Co","jobTitle":"CFO","nickName":"Annie"}`
	r := proxy(s, "POST", "/v1.0/me/contacts", body)
	require.Equal(t, 200, r.status, "Graph's 201 comes back as 200 through Nango: %s", r.body)
	c := r.json(t)
	id, _ := c["id"].(string)
	assert.True(t, validID(id), id)
	assert.Equal(t, "Ann Lee", c["displayName"], "derived from the name's parts")
	assert.Equal(t, "Lee, Ann", c["fileAs"])
	assert.Equal(t, []any{
		map[string]any{"address": "ann.lee@example.com", "name": "Ann Lee"},
		map[string]any{"address": "ann@lee.example", "name": "ann@lee.example"},
	}, c["emailAddresses"])
	assert.Equal(t, []any{"+1 206 555 0100"}, c["businessPhones"])
	assert.Equal(t, "2026-11-25T12:00:00Z", c["createdDateTime"])
	assert.Contains(t, c["@odata.context"], "/contacts/$entity")

	// It is stored: found by address, readable by id.
	found := get(s, "/v1.0/me/contacts"+q("$filter", "emailAddresses/any(a:a/address eq 'ann.lee@example.com')")).values(t)
	require.Len(t, found, 1)
	assert.Equal(t, id, found[0]["id"])
	assert.Equal(t, "CFO", get(s, "/v1.0/me/contacts/"+id).json(t)["jobTitle"])

	for _, tc := range []struct{ body, code string }{
		{`{"companyName":"Nameless Ltd"}`, "ErrorInvalidRequest"},
		{`{"displayName":"  "}`, "ErrorInvalidRequest"},
		{`{"displayName":"X","emailAddresses":["x@example.com"]}`, "RequestBodyRead"},
		{`{"displayName":"X","emailAddresses":[{"email":"x@example.com"}]}`, "RequestBodyRead"},
		{`{"displayName":"X","emailAddresses":[{"name":"X"}]}`, "ErrorInvalidRequest"},
		{`{"displayName":"X","phones":["1"]}`, "RequestBodyRead"},
		{`{"displayName":"X","birthday":"14 May"}`, "RequestBodyRead"},
		{`{"displayName":`, "BadRequest"},
	} {
		r := proxy(s, "POST", "/v1.0/me/contacts", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	assert.Len(t, s.box.contacts, 13, "refused contacts are not stored")

	s.SetScopes("Contacts.Read")
	assert.Equal(t, "ErrorAccessDenied", proxy(s, "POST", "/v1.0/me/contacts", `{"displayName":"X"}`).code(t))
}

func TestContactDetails(t *testing.T) {
	s := newSim(t)
	r := get(s, "/v1.0/me/contacts"+q("$filter", "startswith(surname,'Petrova')", "$select", "birthday,businessAddress,homeAddress"))
	c := r.values(t)[0]
	assert.Equal(t, "1986-05-14T11:59:00Z", c["birthday"])
	assert.Equal(t, map[string]any{"street": "Friedrichstraße 68", "city": "Berlin", "postalCode": "10117", "countryOrRegion": "Germany"}, c["businessAddress"])
	assert.Equal(t, map[string]any{}, c["homeAddress"])
}

func TestPeopleAndDirectoryUsersCarryPhonesAndOffice(t *testing.T) {
	s := newSim(t)
	people := get(s, "/v1.0/me/people"+q("$search", `"lukas"`, "$select", "displayName,officeLocation,phones")).values(t)
	require.Len(t, people, 1)
	assert.Equal(t, "Berlin 3.21", people[0]["officeLocation"])
	assert.Equal(t, []any{
		map[string]any{"type": "business", "number": "+49 30 5550 1207"},
		map[string]any{"type": "mobile", "number": "+49 151 5550 1207"},
	}, people[0]["phones"])

	users := get(s, "/v1.0/users"+q("$search", `"displayName:lukas"`, "$select", "displayName,officeLocation,businessPhones,mobilePhone"), "Nango-Proxy-ConsistencyLevel", "eventual").values(t)
	require.Len(t, users, 1)
	assert.Equal(t, "Berlin 3.21", users[0]["officeLocation"])
	assert.Equal(t, []any{"+49 30 5550 1207"}, users[0]["businessPhones"])
	assert.Equal(t, "+49 151 5550 1207", users[0]["mobilePhone"])
}
