package tools

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ---- get_profile ----

type GetProfileArgs struct{}

type ToolAccess struct {
	Name         string       `json:"name"`
	Toolset      string       `json:"toolset"`
	Usable       bool         `json:"usable"`
	MissingScope string       `json:"missing_scope,omitempty" jsonschema_description:"Least-privileged scope to add to use the tool."`
	Modes        []ModeAccess `json:"modes,omitempty" jsonschema_description:"For a tool whose modes need different scopes: each mode's access."`
}

// ModeAccess is one mode of a tool (send, or save a draft) and its access.
type ModeAccess struct {
	Purpose      string `json:"purpose"`
	Usable       bool   `json:"usable"`
	MissingScope string `json:"missing_scope,omitempty" jsonschema_description:"Least-privileged scope to add for this mode."`
}

type ProfileResult struct {
	Name              string       `json:"name"`
	Email             string       `json:"email"`
	UserPrincipalName string       `json:"user_principal_name,omitempty"`
	JobTitle          string       `json:"job_title,omitempty"`
	ConnectionID      string       `json:"connection_id"`
	IntegrationID     string       `json:"integration_id"`
	GrantedScopes     []string     `json:"granted_scopes" jsonschema_description:"Empty when Nango does not reveal them (see scopes_known)."`
	ScopesKnown       bool         `json:"scopes_known"`
	Tools             []ToolAccess `json:"tools"`
	ScopesToAdd       []string     `json:"scopes_to_add" jsonschema_description:"The least set of scopes to add, in one re-consent, to use every mode of every offered tool. Empty when all are usable or the scopes are unknown."`
}

var getProfile = define("get_profile", "Profile and permissions",
	"Who the connected Outlook user is (name, email), which Microsoft Graph permissions the connection has, and which tools are usable. Call it first when unsure whose mailbox this is or why a tool is refused.",
	[]string{"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, _ GetProfileArgs) (*ProfileResult, error) {
		var me struct {
			DisplayName       string `json:"displayName"`
			Mail              string `json:"mail"`
			UserPrincipalName string `json:"userPrincipalName"`
			JobTitle          string `json:"jobTitle"`
		}
		if err := get(ctx, c, "/me", "", url.Values{"$select": {"displayName,mail,userPrincipalName,jobTitle"}}, nil, &me); err != nil {
			return nil, err
		}
		out := &ProfileResult{
			Name: me.DisplayName, Email: firstNonEmpty(me.Mail, me.UserPrincipalName), UserPrincipalName: me.UserPrincipalName, JobTitle: me.JobTitle,
			ConnectionID: c.Conn.ID(), IntegrationID: c.Conn.IntegrationID(),
			GrantedScopes: c.Granted.Names(), ScopesKnown: c.Granted.Known(),
		}
		if out.GrantedScopes == nil {
			out.GrantedScopes = []string{}
		}
		for _, t := range c.Tools {
			missing := t.lacking(c.Granted, "")
			access := ToolAccess{Name: t.Name, Toolset: t.Toolset, Usable: missing == "", MissingScope: missing}
			for _, m := range t.modes {
				mode := ModeAccess{Purpose: m.purpose, Usable: c.Granted.HasAny(m.scopes...)}
				if !mode.Usable {
					mode.MissingScope = m.scopes[0]
				}
				access.Modes = append(access.Modes, mode)
			}
			out.Tools = append(out.Tools, access)
		}
		out.ScopesToAdd = scopesToAdd(c.Granted, c.Tools)
		if out.ScopesToAdd == nil {
			out.ScopesToAdd = []string{}
		}
		return out, nil
	})

func (r *ProfileResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s <%s>", r.Name, r.Email)
	if r.JobTitle != "" {
		b.WriteString(", " + r.JobTitle)
	}
	fmt.Fprintf(&b, "\nNango connection %q, integration %q.", r.ConnectionID, r.IntegrationID)
	if r.ScopesKnown {
		fmt.Fprintf(&b, "\nGranted scopes: %s.", strings.Join(r.GrantedScopes, ", "))
	} else {
		b.WriteString("\nGranted scopes: unknown (the Nango key cannot read credentials); tools are tried and Graph decides.")
	}
	var toolsets, usable, blocked []string
	for _, t := range r.Tools {
		if !slices.Contains(toolsets, t.Toolset) {
			toolsets = append(toolsets, t.Toolset)
		}
		var lacks, partly []string // the modes without their scope, blocked or besides a usable one
		for _, m := range t.Modes {
			if !m.Usable {
				lacks = append(lacks, m.MissingScope+" "+m.Purpose)
				partly = append(partly, m.Purpose+" needs "+m.MissingScope)
			}
		}
		switch {
		case t.Usable && len(lacks) == 0:
			usable = append(usable, t.Name)
		case t.Usable:
			usable = append(usable, t.Name+" ("+strings.Join(partly, "; ")+")")
		case len(lacks) > 0:
			blocked = append(blocked, t.Name+" (needs "+strings.Join(lacks, ", or ")+")")
		default:
			blocked = append(blocked, t.Name+" (needs "+t.MissingScope+")")
		}
	}
	fmt.Fprintf(&b, "\nToolsets: %s.", strings.Join(toolsets, ", "))
	fmt.Fprintf(&b, "\nUsable tools: %s.", strings.Join(usable, ", "))
	if len(blocked) > 0 {
		fmt.Fprintf(&b, "\nUnavailable: %s.", strings.Join(blocked, "; "))
	}
	if r.ScopesKnown {
		add := strings.Join(r.ScopesToAdd, ", ")
		if add == "" {
			add = "nothing, all are usable"
		}
		fmt.Fprintf(&b, "\nTo use every offered tool, add: %s.", add)
	}
	return b.String()
}

// myAddress starts reading the user's own address beside the call's
// request; the function returned waits for it: "" when it cannot be read
// (no User.Read). It is remembered per connection, as it does not change.
func myAddress(ctx context.Context, c *Call) func() string {
	if !c.Granted.HasAny(getProfile.Scopes...) {
		return func() string { return "" }
	}
	return aside(c, &c.memos().me, func() (string, time.Duration) {
		var me struct {
			Mail              string `json:"mail"`
			UserPrincipalName string `json:"userPrincipalName"`
		}
		if get(ctx, c, "/me", "", url.Values{"$select": {"mail,userPrincipalName"}}, nil, &me) != nil {
			return "", -1 // not remembered: the next call tries again
		}
		if addr := firstNonEmpty(me.Mail, me.UserPrincipalName); addr != "" {
			return addr, 0
		}
		return "", -1
	})
}
