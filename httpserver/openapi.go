package httpserver

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of every route of routes.go,
// written by hand; openapi_test.go checks real requests and responses of
// the handlers against it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document (JSON). The caller must
// not modify it.
func OpenAPI() []byte { return openAPI }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
}
