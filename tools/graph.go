package tools

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Graph's JSON shapes, only the fields the tools read.

const graphV1 = "https://graph.microsoft.com/v1.0"

type graphPage[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

type graphEmail struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type graphRecipient struct {
	EmailAddress graphEmail `json:"emailAddress"`
}

// Person is a name and an email address.
type Person struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

func (r graphRecipient) person() Person {
	return Person{Name: r.EmailAddress.Name, Address: r.EmailAddress.Address}
}

func (p Person) String() string {
	switch {
	case p.Name == "" || strings.EqualFold(p.Name, p.Address):
		return p.Address
	case p.Address == "":
		return p.Name
	}
	return p.Name + " <" + p.Address + ">"
}

// short is a person as lists show them: the name, or the address when
// there is none (get_message shows both).
func (p Person) short() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Address
}

func people(rs []graphRecipient) []Person {
	out := make([]Person, len(rs))
	for i, r := range rs {
		out[i] = r.person()
	}
	return out
}

func joinPeople(ps []Person) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// preferImmutableID asks for ids that survive moves between folders.
const preferImmutableID = `IdType="ImmutableId"`

// get is a Graph GET: path, or a nextLink when link is set.
func get(ctx context.Context, c *Call, path, link string, query url.Values, header http.Header, out any) error {
	if link != "" {
		path, query = link, nil
	}
	return c.Conn.Do(ctx, nango.Request{Method: http.MethodGet, Path: path, Query: query, Header: header}, out)
}

// post is a Graph POST of a JSON body (nil: none). It is never retried
// after it may have reached Graph: see nango.Request.Idempotent.
func post(ctx context.Context, c *Call, path string, body, out any) error {
	return c.Conn.Do(ctx, nango.Request{Method: http.MethodPost, Path: path, Body: body}, out)
}

// messageID checks a message id argument (see itemID).
func messageID(arg, id string) (string, error) { return itemID(arg, "a message id", id) }

// messagePath is a message's Graph path; the id is one path segment.
func messagePath(id string) string { return "/me/messages/" + url.PathEscape(id) }
