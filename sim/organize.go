package sim

import "slices"

// Organizing mail: child folders and moving messages. Flags, categories and
// read state are PATCHed like any other property (see compose.go).

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
	m, out, err := s.messageWrite(g)
	if err != nil {
		return nil, err
	}
	var req struct {
		DestinationID string `json:"destinationId"`
	}
	if err := strictJSON(g.body, &req, "microsoft.graph.move"); err != nil {
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
		imm := m.immID
		m.id = s.newMessageID(g)
		m.folderID = dest.id
		m.finish()
		m.immID = imm
	}
	return out(m, 201)
}
