package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nangoCall makes one request to the simulated Nango API with the secret key.
func nangoCall(t *testing.T, s *Sim, method, uri, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://nango.test"+uri, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+DefaultSecretKey)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestListConnectionsQuerySchema(t *testing.T) {
	s := newSim(t)
	s.SetConnectionTags(map[string]string{"end_user_id": "alice"})
	for _, tc := range []struct {
		query string
		found bool
	}{
		{"tags[end_user_id]=alice&integrationId=outlook", true},
		{"tags%5Bend_user_id%5D=alice", true},
		{"tags[end_user_id]=bob", false},
		{"tags[end_user_id]=alice&integrationId=other", false},
		{"endUserId=alice", false}, // endUserId reads the deprecated end_user record, not tags
		{"", true},
	} {
		status, body := nangoCall(t, s, "GET", "/connections?"+tc.query, "")
		require.Equal(t, 200, status, tc.query)
		var out struct{ Connections []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		assert.Equal(t, tc.found, len(out.Connections) == 1, tc.query)
	}
	for _, q := range []string{"end_user_id=alice", "tags=alice", "limit=0", "provider_config_key=outlook"} {
		status, body := nangoCall(t, s, "GET", "/connections?"+q, "")
		assert.Equal(t, 400, status, q)
		assert.Contains(t, body, "invalid_query_params", q)
	}
}

func TestConnectSessionBody(t *testing.T) {
	s := newSim(t)
	status, body := nangoCall(t, s, "POST", "/connect/sessions", `{"tags":{"end_user_id":"alice"},"allowed_integrations":["outlook"]}`)
	require.Equal(t, 201, status, body)
	assert.Contains(t, body, `"connect_link":"https://connect.nango.dev/?session_token=`)
	for _, bad := range []string{
		`{"allowed_integrations":["outlook"]}`,
		`{"tags":{"end_user_id":"alice"},"allowed_integrations":["gmail"]}`,
		`{"tags":{"end_user_id":"alice"},"integration_id":"outlook"}`,
	} {
		status, body := nangoCall(t, s, "POST", "/connect/sessions", bad)
		assert.Equal(t, 400, status, bad)
		assert.Contains(t, body, "invalid_body", bad)
	}
	assert.Len(t, s.ConnectSessions(), 1)
}

// With Options.Users, GET /connections lists every connection of the
// environment, each with its own tags: a tag lookup finds each user's own.
func TestListConnectionsListsEveryUser(t *testing.T) {
	s := newSim(t, func(o *Options) {
		o.Users = []User{{ConnectionID: "conn-ada", Name: "Ada Lovelace"}, {ConnectionID: "conn-bob", Name: "Bob Marley"}}
	})
	s.SetConnectionTags(map[string]string{"end_user_id": "priya"})
	s.User("conn-ada").SetConnectionTags(map[string]string{"end_user_id": "ada"})
	ids := func(query string) []string {
		status, body := nangoCall(t, s, "GET", "/connections?"+query, "")
		require.Equal(t, 200, status, body)
		var out struct {
			Connections []struct {
				ConnectionID string `json:"connection_id"`
			}
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		var ids []string
		for _, c := range out.Connections {
			ids = append(ids, c.ConnectionID)
		}
		return ids
	}
	assert.Equal(t, []string{"sandbox", "conn-ada", "conn-bob"}, ids(""))
	assert.Equal(t, []string{"conn-ada"}, ids("tags[end_user_id]=ada"))
	assert.Equal(t, []string{"sandbox"}, ids("tags[end_user_id]=priya"))
	assert.Empty(t, ids("tags[end_user_id]=bob"), "bob's connection is untagged")
	assert.Equal(t, []string{"conn-bob"}, ids("connectionId=conn-bob"))
}
