package oauth

import (
	"net/http"

	"github.com/mark3labs/mcp-go/server"
)

// MetadataHandler serves the RFC 9728 Protected Resource Metadata: the
// resource (--public-url exactly as given), the authorization server that
// issues its tokens, the scopes to ask for, and that tokens go in the
// Authorization header. It is public (CORS *): a client reads it before it
// has a token.
func (a *Authenticator) MetadataHandler() http.Handler {
	return server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
		Resource:               a.cfg.PublicURL,
		AuthorizationServers:   []string{a.cfg.Issuer},
		ScopesSupported:        a.scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Outlook (outlook-mcp)",
	})
}

// MetadataPaths are where clients look for the metadata: the path-suffixed
// form for --public-url's path (/.well-known/oauth-protected-resource/mcp),
// which the challenges name, and the bare well-known path that older
// clients try.
func (a *Authenticator) MetadataPaths() []string {
	paths := []string{server.WellKnownProtectedResourcePath}
	if p := server.ProtectedResourceMetadataPath(a.cfg.PublicURL); p != paths[0] {
		paths = append(paths, p)
	}
	return paths
}

// Mount registers the metadata on mux at MetadataPaths, without
// authentication.
func (a *Authenticator) Mount(mux *http.ServeMux) {
	h := a.MetadataHandler()
	for _, p := range a.MetadataPaths() {
		mux.Handle(p, h)
	}
}
