package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
)

// failure turns a handler's error into what the model sees: a tool error
// that says what happened and what to do next, and its Outcome for the audit
// log and metrics. Only faults that are neither the model's, the user's nor
// an upstream service's become Go errors.
func (t Tool) failure(ctx context.Context, c *Call, err error) (*mcp.CallToolResult, Outcome, error) {
	var in *inputError
	if errors.As(err, &in) {
		return mcp.NewToolResultError(in.Error()), OutcomeInputError, nil
	}
	var no *refusal
	if errors.As(err, &no) {
		// A refusal may name what others wrote (a file's name): fenced too.
		return mcp.NewToolResultError(renderFences(t.Name + ": " + no.msg)), OutcomeRefused, nil
	}
	var missing *missingScopeError
	if errors.As(err, &missing) {
		return t.missingScope(ctx, c, missing.need), OutcomeMissingScope, nil
	}
	if e, ok := nango.AsError(err); (ok && e.Kind == nango.KindAmbiguous) || (!t.Hints.ReadOnly && ctx.Err() != nil) {
		// A change stopped on its way (a deadline, a cancel between its
		// steps, a 5xx after Graph began): "try again" could do it twice.
		return mcp.NewToolResultError(t.Name + ": " + t.ambiguous()), OutcomeAmbiguous, nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return mcp.NewToolResultError(fmt.Sprintf("%s timed out waiting for Outlook. Try again; if it keeps happening, narrow the request (smaller limit or date range).", t.Name)), OutcomeTimeout, nil
	}
	if errors.Is(err, context.Canceled) {
		return mcp.NewToolResultError(t.Name + " was cancelled."), OutcomeCancelled, nil
	}
	e, ok := nango.AsError(err)
	if !ok {
		return nil, OutcomeInternalError, err
	}
	if need := t.needOf(c); e.Kind == nango.KindAccessDenied && len(need.scopes) > 0 {
		// Graph never says which scope is missing: reread what was granted.
		if granted, rerr := c.Conn.RefreshScopes(ctx); rerr == nil {
			c.Granted = granted
			if !granted.HasAny(need.scopes...) {
				return t.missingScope(ctx, c, need), OutcomeMissingScope, nil
			}
		}
	}
	msg, outcome := t.describe(c, e)
	if e.Kind == nango.KindReauthorize && c.Granted.Known() {
		// The link asks for what was granted: re-authorizing loses nothing.
		if link, lerr := c.Conn.ReconnectLink(ctx, c.Granted.Names()); lerr == nil {
			msg += "\nRe-authorization link for the user (valid 30 minutes): " + link
		}
	}
	return mcp.NewToolResultError(msg), outcome, nil
}

// describe says what went wrong and the next step, per kind of failure, and
// the outcome that kind is counted as.
func (t Tool) describe(c *Call, e *nango.Error) (string, Outcome) {
	conn, integration := c.Conn.ID(), c.Conn.IntegrationID()
	var msg string
	outcome := OutcomeUpstreamError
	switch k := e.Kind; {
	case k == nango.KindBadSecretKey:
		outcome = OutcomeConfigError
		msg = fmt.Sprintf("Nango rejected the server's secret key (%s). The server's operator must set NANGO_SECRET_KEY to a valid secret key of the Nango environment that holds the connection, with the proxy permission.", e.Code)
	case k == nango.KindUnknownIntegration && c.named:
		outcome = OutcomeConnectionError
		msg = fmt.Sprintf("Nango has no integration %q. Check the provider-config-key header your client sends (or send none, for the server's default integration).", integration)
	case k == nango.KindUnknownIntegration:
		outcome = OutcomeConfigError
		msg = fmt.Sprintf("Nango has no integration %q. The server's operator must set NANGO_INTEGRATION_ID to the integration's id as shown in Nango (Integrations).", integration)
	case k == nango.KindUnknownConnection && c.named:
		// The caller named it: speak of their own connection only.
		outcome = OutcomeConnectionError
		msg = fmt.Sprintf("Nango has no connection %q in integration %q. Check the connection-id header your client sends, or connect the Outlook account in Nango first.", conn, integration)
	case k == nango.KindUnknownConnection:
		outcome = OutcomeConnectionError
		msg = fmt.Sprintf("Nango has no connection %q in integration %q. Check NANGO_CONNECTION_ID, or connect the Outlook account in Nango first.", conn, integration)
	case k == nango.KindReauthorize:
		outcome = OutcomeConnectionError
		msg = fmt.Sprintf("The Microsoft sign-in of connection %q must be renewed: Nango could not refresh it (%s: %s). Retrying will not help: the user must re-authorize the connection in Nango, then retry.", conn, e.Code, e.Message)
	case k == nango.KindRateLimited:
		outcome = OutcomeThrottled
		wait := math.Max(1, math.Ceil(e.RetryAfter.Seconds()))
		who := "Outlook is throttling this mailbox"
		if e.Source == nango.FromNango {
			who = "Nango's rate limit was reached"
		}
		msg = fmt.Sprintf("%s. Nothing was done. Retry after %.0f s, and make fewer calls at once.", who, wait)
	case k == nango.KindAccessDenied:
		outcome = OutcomeAccessDenied
		if t.WorkOrSchool {
			// Graph gives a personal account the same 403 as a missing scope.
			msg = fmt.Sprintf("Outlook denied access (%s: %s). %s works only for work or school (Microsoft 365) accounts: Graph refuses it to personal Microsoft accounts (outlook.com, hotmail.com, live.com). With a personal account, read your own calendar with list_events and ask the others for their availability.", e.Code, e.Message, t.Name)
			if !c.Granted.Known() {
				msg += fmt.Sprintf(" On a work or school account the likely cause is a missing permission: %s needs %s.", t.Name, strings.Join(t.Scopes, " or "))
			}
		} else if !c.Granted.Known() {
			// No link here: without the granted scopes a reconnect session
			// would ask for this tool's scope alone and drop the others.
			need := t.needOf(c)
			msg = fmt.Sprintf("Outlook denied access (%s: %s). Nango does not reveal the connection's granted scopes, so the likely cause is a missing permission: %s needs %s%s. Add it to the Azure app registration's API permissions and to the Nango integration's scopes, then re-authorize the connection with consent (prompt=consent).", e.Code, e.Message, t.Name, strings.Join(need.scopes, " or "), need.forPurpose())
		} else {
			msg = fmt.Sprintf("Outlook denied access (%s: %s). The connection's granted scopes (%s) include what %s needs, so the mailbox does not allow it (a shared or restricted mailbox, or an admin policy). Check the account, or re-authorize the connection.", e.Code, e.Message, c.Granted, t.Name)
		}
	case k == nango.KindNotFound:
		outcome = OutcomeNotFound
		msg = fmt.Sprintf("Not found (%s): the item or folder does not exist, was deleted, or its id is wrong. Ids are opaque: pass them back exactly as a tool returned them.", e.Message)
	case k == nango.KindBadRequest:
		outcome = OutcomeBadRequest
		msg = fmt.Sprintf("Outlook rejected the request (%s: %s). Check the arguments.", e.Code, e.Message)
	case k == nango.KindUnavailable:
		outcome = OutcomeUnavailable
		msg = fmt.Sprintf("Outlook or Nango is unavailable right now (%s). Retry in a minute.", firstNonEmpty(e.Code, e.Message, fmt.Sprint(e.Status)))
	default:
		msg = fmt.Sprintf("The call failed: %s.", e.Error())
	}
	if e.RequestID != "" {
		msg += " (Graph request-id " + e.RequestID + ")"
	}
	return t.Name + ": " + msg, outcome
}

// ambiguous is the answer to a change whose outcome is unknown: what
// happened, where to look, and not to repeat it blindly.
func (t Tool) ambiguous() string {
	return "The request reached Outlook but no clear answer came back (a timeout, a cancel or a server error), so it may or may not have taken effect. It was NOT retried, to avoid doing it twice. Check " + t.whereToCheck() + " before doing it again, and do not repeat it blindly."
}

// whereToCheck says where the user can see whether t's change happened.
func (t Tool) whereToCheck() string {
	switch {
	case t.Name == "create_draft":
		return "Drafts (search_mail with folder drafts)"
	case t.Name == "reply_to_message" || t.Name == "forward_message":
		return "Sent Items (search_mail with folder sentitems), or Drafts with draft_only"
	case t.Name == "send_mail" || t.Name == "send_draft":
		return "Sent Items (search_mail with folder sentitems)"
	case t.Toolset == "mail":
		return "the message's current state (get_message, or search_mail in its folder)"
	case t.Toolset == "calendar":
		return "the calendar (list_events around that time)"
	case t.Toolset == "contacts":
		return "the contacts (find_contacts)"
	case t.Toolset == "mailbox":
		return "the settings (get_mailbox_settings)"
	}
	return "in Outlook"
}

// scopeNeed is what one call needs: any one of scopes, for purpose. A tool
// whose modes need different scopes (send or save a draft) lists them all,
// so the gate lets a call in with any; the handler then narrows the need
// to its mode with Call.require.
type scopeNeed struct {
	scopes  []string
	mode    string // the mode's name for prompts, e.g. "draft_only"; "" for the whole tool
	purpose string // e.g. "to send"; "" for what the whole tool needs
	hint    string // another way to the user's goal, when there is one
}

// missingScopeError is a handler's refusal for want of a scope its mode
// needs: failure answers it exactly as the gate answers for the tool.
type missingScopeError struct{ need scopeNeed }

func (e *missingScopeError) Error() string {
	return "missing scope: one of " + strings.Join(e.need.scopes, ", ") + e.need.forPurpose()
}

// forPurpose is " to send", or nothing for the whole tool.
func (n scopeNeed) forPurpose() string {
	if n.purpose == "" {
		return ""
	}
	return " " + n.purpose
}

// require narrows what this call needs, for the rest of it: a later 403 is
// explained with these scopes too. It refuses when none is granted.
func (c *Call) require(need scopeNeed) error {
	c.need = &need
	if !c.Granted.HasAny(need.scopes...) {
		return &missingScopeError{need: need}
	}
	return nil
}

// needOf is what the call needs: its mode's scopes, else the tool's.
func (t Tool) needOf(c *Call) scopeNeed {
	if c.need != nil {
		return *c.need
	}
	return scopeNeed{scopes: t.Scopes}
}

// needs lists what each of the tool's modes needs, least privileged first:
// one entry, the tool's Scopes, for a tool without modes.
func (t Tool) needs() []scopeNeed {
	if len(t.modes) > 0 {
		return t.modes
	}
	return []scopeNeed{{scopes: t.Scopes}}
}

// lacking is the least-privileged scope that would make the tool usable, or
// "" when granted lets some mode of it run (or the scopes are unknown).
// Given a mode of the tool (Modes), it is that mode's scope.
func (t Tool) lacking(granted nango.Scopes, mode string) string {
	needs := t.needs()
	if i := slices.IndexFunc(needs, func(n scopeNeed) bool { return mode != "" && n.mode == mode }); i >= 0 {
		needs = needs[i : i+1]
	}
	for _, n := range needs {
		if granted.HasAny(n.scopes...) {
			return ""
		}
	}
	return needs[0].scopes[0]
}

// Modes names the tool's modes that need different scopes ("draft_only",
// "send"), for prompts that use one of them; nil when it has none.
func (t Tool) Modes() []string {
	var out []string
	for _, m := range t.modes {
		out = append(out, m.mode)
	}
	return out
}

// scopesToAdd is the least set of scopes that, added to granted, lets every
// mode of every tool run: needs with fewer choices first, each taking its
// least-privileged scope unless one already taken covers it, then dropping
// any scope the others make redundant.
func scopesToAdd(granted nango.Scopes, tools []Tool) []string {
	var open []scopeNeed
	for _, t := range tools {
		for _, n := range t.needs() {
			if !granted.HasAny(n.scopes...) {
				open = append(open, n)
			}
		}
	}
	slices.SortStableFunc(open, func(a, b scopeNeed) int { return len(a.scopes) - len(b.scopes) })
	var add []string
	covered := func(n scopeNeed, set []string) bool {
		return slices.ContainsFunc(n.scopes, func(s string) bool { return slices.Contains(set, s) })
	}
	for _, n := range open {
		if !covered(n, add) {
			add = append(add, n.scopes[0])
		}
	}
	for i := 0; i < len(add); {
		rest := slices.Delete(slices.Clone(add), i, i+1)
		if !slices.ContainsFunc(open, func(n scopeNeed) bool { return !covered(n, rest) }) {
			add = rest
		} else {
			i++
		}
	}
	slices.Sort(add)
	return add
}

// missingScope is the actionable error of the scope gate: which scope to
// add, what is granted, where, and how (with a re-authorization link when
// Nango can make one).
func (t Tool) missingScope(ctx context.Context, c *Call, need scopeNeed) *mcp.CallToolResult {
	first := need.scopes[0]
	var b strings.Builder
	fmt.Fprintf(&b, "%s needs the Microsoft Graph delegated permission %s", t.Name, first)
	if len(need.scopes) > 1 {
		fmt.Fprintf(&b, " (or any of %s)", strings.Join(need.scopes[1:], ", "))
	}
	fmt.Fprintf(&b, "%s, which Nango connection %q (integration %q) was not granted.\nGranted now: %s.\n", need.forPurpose(), c.Conn.ID(), c.Conn.IntegrationID(), c.Granted)
	fmt.Fprintf(&b, "Fix: add %s to the Azure app registration's API permissions and to the Nango integration's scopes, then re-authorize the connection with consent (prompt=consent).", first)
	link, err := c.Conn.ReconnectLink(ctx, append(c.Granted.Names(), first))
	if err == nil {
		fmt.Fprintf(&b, "\nRe-authorization link for the user (valid 30 minutes): %s", link)
	}
	if need.hint != "" {
		b.WriteString("\n" + need.hint)
	}
	return mcp.NewToolResultError(b.String())
}

// notConnected answers a signed-in user who has no Outlook connection yet
// with a Nango Connect link made for them; once they connect, the server
// finds the new connection by its tags.
func (t Tool) notConnected(ctx context.Context, deps Deps, u identity.EndUser) *mcp.CallToolResult {
	link, err := deps.Nango.ConnectLink(ctx, nango.EndUser{ID: u.ID, Email: u.Email})
	if err != nil {
		deps.Logger.WarnContext(ctx, "no Connect link for a user without a connection", "err", err)
		return mcp.NewToolResultError(t.Name + ": no Outlook account is connected for you yet, and no link to connect one could be made right now. Try again in a minute; if it keeps failing, the server's operator must give the Nango secret key the environment:connect_sessions:write permission.")
	}
	return mcp.NewToolResultError(fmt.Sprintf("%s: no Outlook account is connected for you yet. Connect your Outlook account: %s, then try again.", t.Name, link))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
