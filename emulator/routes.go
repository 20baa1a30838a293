package emulator

// routes registers every path the emulator serves. Unknown paths answer 404
// NOT_FOUND so gaps show at once.
func (e *Emulator) routes() {
	e.handle("/", KindNone, false, map[string]handlerFunc{
		"GET": notFound, "POST": notFound, "PUT": notFound, "PATCH": notFound, "DELETE": notFound,
	})
	// REST resources (rest.go), collections (collections.go), composite
	// (composite.go), query (query.go), bulk (bulk*.go), OAuth (oauth*.go) and
	// the admin API (admin.go) register below.
}

func notFound(c *call) {
	c.writeError(404, "NOT_FOUND", "The requested resource does not exist", nil)
}
