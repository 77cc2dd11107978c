package sim

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Organizing mail: child folders, moving messages and updating them.

// childFolders are the folders directly under parentID, in fixture order.
func (s *Sim) childFolders(parentID string) []*folder {
	return slices.DeleteFunc(slices.Clone(s.box.folders), func(f *folder) bool { return f.parent != parentID })
}

// GET /me/mailFolders/{folder}/childFolders
func (s *Sim) listChildFolders(g *graphReq) (*reply, error) {
	f, err := s.folderParam(g)
	if err != nil {
		return nil, err
	}
	ctx := s.mePath() + "/mailFolders('" + g.params["folder"] + "')/childFolders"
	return listEntities(g, folderType, s.childFolders(f.id), listOptions{context: ctx}, s.folderJSON)
}

// POST /me/messages/{id}/move {"destinationId"}: 201 with the message in
// its new folder. Its REST id changes (it names the folder); its immutable
// id does not.
func (s *Sim) moveMessage(g *graphReq) (*reply, error) {
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	var req struct {
		DestinationID string `json:"destinationId"`
	}
	if err := g.decodeBody(&req, "microsoft.graph.move"); err != nil {
		return nil, err
	}
	if req.DestinationID == "" {
		return nil, gerr(400, "ErrorInvalidParameter", "The value of the parameter 'DestinationId' is empty.")
	}
	dest := s.box.folder(req.DestinationID)
	switch {
	case dest == nil && !validID(req.DestinationID):
		return nil, errMalformedID
	case dest == nil:
		return nil, errNotFound
	}
	if dest.id != m.folderID {
		s.seq++
		imm := m.immID
		m.id = derivedID("AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAAD", "moved", m.id, dest.id, strconv.Itoa(s.seq))
		m.folderID = dest.id
		m.finish()
		m.immID = imm
	}
	rep, err := s.messageReply(g, m)
	if err != nil {
		return nil, err
	}
	rep.status = 201
	return rep, nil
}

// messagePatch is what PATCH /me/messages/{id} may change.
type messagePatch struct {
	IsRead *bool `json:"isRead"`
	Flag   *struct {
		FlagStatus string `json:"flagStatus"`
	} `json:"flag"`
	Categories *[]string `json:"categories"`
	Importance *string   `json:"importance"`

	Subject       *string          `json:"subject"`
	Body          *outgoingBody    `json:"body"`
	ToRecipients  *[]outgoingRecip `json:"toRecipients"`
	CcRecipients  *[]outgoingRecip `json:"ccRecipients"`
	BccRecipients *[]outgoingRecip `json:"bccRecipients"`
}

// PATCH /me/messages/{id}: 200 with the updated message. Subject and body
// can be changed on any message (contrary to the documentation, Graph
// allows it); recipients only on drafts.
func (s *Sim) patchMessage(g *graphReq) (*reply, error) {
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	var p messagePatch
	if err := g.decodeBody(&p, "microsoft.graph.message"); err != nil {
		return nil, err
	}
	if !m.isDraft && (p.ToRecipients != nil || p.CcRecipients != nil || p.BccRecipients != nil) {
		return nil, gerr(400, "ErrorInvalidPropertySet", "Message is not draft.")
	}
	// Validate everything before changing anything: a 400 changes nothing.
	next := *m
	if p.IsRead != nil {
		next.isRead = *p.IsRead
	}
	if p.Flag != nil {
		if next.flag, err = enumValue(p.Flag.FlagStatus, "followupFlagStatus", "notFlagged", "complete", "flagged"); err != nil {
			return nil, err
		}
	}
	if p.Categories != nil {
		next.categories = slices.Clone(*p.Categories)
	}
	if p.Importance != nil {
		if next.importance, err = enumValue(*p.Importance, "importance", "low", "normal", "high"); err != nil {
			return nil, err
		}
	}
	if p.Subject != nil {
		next.subject = *p.Subject
	}
	if p.Body != nil {
		if next.body, err = p.Body.content(); err != nil {
			return nil, err
		}
		next.unique = next.body
	}
	for _, r := range []struct {
		list *[]outgoingRecip
		into *[]recipient
	}{{p.ToRecipients, &next.to}, {p.CcRecipients, &next.cc}, {p.BccRecipients, &next.bcc}} {
		if r.list != nil {
			if *r.into, err = recipientsOf(*r.list); err != nil {
				return nil, err
			}
		}
	}
	*m = next
	m.finish()
	return s.messageReply(g, m)
}

// decodeBody reads a JSON request body as Graph does: an empty one, invalid
// JSON and unknown properties are 400s.
func (g *graphReq) decodeBody(v any, typeName string) error {
	if len(bytes.TrimSpace(g.body)) == 0 {
		return badRequest("Empty Payload. JSON content expected.")
	}
	return strictJSON(g.body, v, typeName)
}

// messageReply renders m as the answer to a request on it.
func (s *Sim) messageReply(g *graphReq, m *message) (*reply, error) {
	v, err := s.messageView(g)
	if err != nil {
		return nil, err
	}
	return entity(g, &messageType.entityInfo, s.mePath()+"/messages/$entity", s.messageJSON(m, v))
}

// enumValue reads an OData enum member, case-insensitively, in its canonical spelling.
func enumValue(v, typeName string, members ...string) (string, error) {
	i := slices.IndexFunc(members, func(m string) bool { return strings.EqualFold(m, v) })
	if i < 0 {
		return "", gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.%s'.", v, typeName)
	}
	return members[i], nil
}

// content reads a request's itemBody.
func (b *outgoingBody) content() (content, error) {
	c := content{text: b.Content}
	switch strings.ToLower(b.ContentType) {
	case "text", "":
	case "html":
		c.html = true
	default:
		return c, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", b.ContentType)
	}
	return c, nil
}

// recipientsOf validates a request's recipients as Exchange does before
// storing or submitting them.
func recipientsOf(list []outgoingRecip) ([]recipient, error) {
	out := make([]recipient, 0, len(list))
	for _, r := range list {
		addr := strings.TrimSpace(r.EmailAddress.Address)
		if !plausibleAddress(addr) {
			return nil, gerr(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., Recipient '%s' is not resolved. All recipients must be resolved before a message can be submitted.", r.EmailAddress.Address)
		}
		out = append(out, recipient{Name: cmp.Or(r.EmailAddress.Name, addr), Address: addr})
	}
	return out, nil
}
