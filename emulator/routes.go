package emulator

// routes registers every path the emulator serves. Unknown paths answer 404
// NOT_FOUND so gaps show at once.
func (e *Emulator) routes() {
	e.handle("/", KindNone, false, map[string]handlerFunc{
		"GET": notFound, "POST": notFound, "PUT": notFound, "PATCH": notFound, "DELETE": notFound,
	})
	// Any other path under a version is an unknown resource: 404 NOT_FOUND,
	// but only after the session is checked and the call counted, as
	// Salesforce does (Sforce-Limit-Info on the answer).
	unknown := map[string]handlerFunc{"GET": notFound, "POST": notFound, "PUT": notFound, "PATCH": notFound, "DELETE": notFound}
	e.handle("/services/data/{version}/{rest...}", KindREST, true, unknown)
	// --- CORE (rest.go): versions, resource map, sObject resources, limits ---
	e.coreRoutes()
	// REST resources (rest.go), collections (collections.go), composite
	// (composite.go), query (query.go), bulk (bulk*.go), OAuth (oauth*.go) and
	// the admin API (admin.go) register below.

	// --- SOQL (query.go) ---------------------------------------------------------
	e.registerQueryRoutes()
	e.soslRoutes() // sosl.go
	// --- end SOQL ----------------------------------------------------------------

	// --- COMPOSITE (collections.go, composite.go, admin.go) ---------------------
	e.collectionRoutes()
	e.compositeRoutes()
	e.adminRoutes()
	e.replicationRoutes() // replication.go: getUpdated/getDeleted, sales-rep edits, merges, frozen stamps
	// --- end COMPOSITE ---------------------------------------------------------

	// --- OAUTH (oauth*.go, identity.go) ---------------------------------------
	authorize := map[string]handlerFunc{"GET": e.serveAuthorize, "POST": e.serveAuthorize}
	e.handle("/services/oauth2/authorize", KindOAuth, false, authorize)
	e.handle("/services/oauth2/token", KindOAuth, false, map[string]handlerFunc{"POST": e.serveToken})
	e.handle("/services/oauth2/revoke", KindOAuth, false, map[string]handlerFunc{"GET": e.serveRevoke, "POST": e.serveRevoke})
	e.handle("/services/oauth2/introspect", KindOAuth, false, map[string]handlerFunc{"POST": e.serveIntrospect})
	e.handle("/services/oauth2/userinfo", KindOAuth, false, map[string]handlerFunc{"GET": e.serveUserInfo, "POST": e.serveUserInfo})
	e.handle("/id/{org}/{user}", KindOAuth, false, map[string]handlerFunc{"GET": e.serveIdentity, "POST": e.serveIdentity})
	e.handle("/id/keys", KindOAuth, false, map[string]handlerFunc{"GET": e.serveJWKS})
	e.handle("/.well-known/openid-configuration", KindOAuth, false, map[string]handlerFunc{"GET": e.serveOpenIDConfiguration})
	// SOAP partner API login/logout only (soap_login.go), for jsforce's default login.
	soap := map[string]handlerFunc{"POST": e.serveSOAP}
	e.handle("/services/Soap/u/{soapVersion}", KindOAuth, false, soap)
	e.handle("/services/Soap/u/{soapVersion}/{org}", KindOAuth, false, soap)
	// --- end OAUTH -------------------------------------------------------------

	// BULK: Bulk API 2.0 ingest and query jobs (bulk*.go).
	e.handle("/services/data/{version}/jobs/ingest", KindBulk, true, map[string]handlerFunc{
		"POST": e.createIngestJob, "GET": func(c *call) { e.listJobs(c, false) },
	})
	e.handle("/services/data/{version}/jobs/ingest/{id}", KindBulk, true, map[string]handlerFunc{
		"GET":    func(c *call) { e.getJob(c, false) },
		"PATCH":  func(c *call) { e.patchJob(c, false) },
		"DELETE": func(c *call) { e.deleteJob(c, false) },
	})
	e.handle("/services/data/{version}/jobs/ingest/{id}/batches", KindBulk, true, map[string]handlerFunc{"PUT": e.uploadJobData})
	for _, kind := range []string{"successfulResults", "failedResults", "unprocessedrecords"} {
		e.handle("/services/data/{version}/jobs/ingest/{id}/"+kind, KindBulk, true, map[string]handlerFunc{
			"GET": func(c *call) { e.jobResults(c, kind) },
		})
	}
	// simple-salesforce asks for unprocessedRecords (capital R) where the
	// Bulk 2.0 guide writes unprocessedrecords; its users get the records,
	// so Salesforce serves that spelling too (UNCONFIRMED by a recording).
	e.handle("/services/data/{version}/jobs/ingest/{id}/unprocessedRecords", KindBulk, true, map[string]handlerFunc{
		"GET": func(c *call) { e.jobResults(c, "unprocessedrecords") },
	})
	e.handle("/services/data/{version}/jobs/query", KindBulk, true, map[string]handlerFunc{
		"POST": e.createQueryJob, "GET": func(c *call) { e.listJobs(c, true) },
	})
	e.handle("/services/data/{version}/jobs/query/{id}", KindBulk, true, map[string]handlerFunc{
		"GET":    func(c *call) { e.getJob(c, true) },
		"PATCH":  func(c *call) { e.patchJob(c, true) },
		"DELETE": func(c *call) { e.deleteJob(c, true) },
	})
	e.handle("/services/data/{version}/jobs/query/{id}/results", KindBulk, true, map[string]handlerFunc{"GET": e.queryResults})
	e.bulkV1Routes() // bulkv1.go: Bulk API 1.0
	// END BULK
}

func notFound(c *call) {
	c.writeError(404, "NOT_FOUND", "The requested resource does not exist", nil)
}
