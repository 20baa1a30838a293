package httpserver

// routes lists every route of the API.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.endpointAuth(s.cfg.HealthzNeedsToken, s.handleHealth)) // health.go
	s.mux.HandleFunc("GET /metrics", s.endpointAuth(s.cfg.MetricsNeedsToken, s.metricsHandler().ServeHTTP))
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI) // openapi.json describes every route here
	s.mux.HandleFunc("POST /api/v1/sources/{source}/records", s.authed(s.handleIngest))
	s.mux.HandleFunc("GET /api/v1/sources/{source}/records", s.authed(s.handleRecords))
	s.mux.HandleFunc("GET /api/v1/sources/{source}/records/{key}", s.authed(s.handleRecord))
	s.mux.HandleFunc("GET /api/v1/sources/{source}/records/{key}/history", s.authed(s.handleHistory)) // history.go
	s.mux.HandleFunc("GET /api/v1/runs", s.authed(s.handleRuns))
	s.mux.HandleFunc("GET /api/v1/failures", s.authed(s.handleFailures))
	s.mux.HandleFunc("POST /api/v1/mappings/{mapping}/retry", s.authed(s.handleRetry))
	s.mux.HandleFunc("GET /api/v1/changes", s.authed(s.handleChanges))
	s.mux.HandleFunc("GET /api/v1/mappings/{mapping}/dead-letters", s.authed(s.handleDeadLetters))
	s.mux.HandleFunc("POST /api/v1/mappings/{mapping}/dead-letters/redeliver", s.authed(s.handleRedeliver))
	s.mux.HandleFunc("POST /api/v1/mappings/{mapping}/approve", s.authed(s.handleApprove)) // guard.go
	s.mux.HandleFunc("GET /api/v1/guard", s.authed(s.handleGuard))
	s.mux.HandleFunc("GET /api/v1/plan", s.authed(s.handlePlan)) // inspect.go: what the next push would do
	s.mux.HandleFunc("POST /api/v1/mappings/{mapping}/reconcile", s.authed(s.handleReconcile))
	s.mux.HandleFunc("GET /api/v1/reconcile/runs", s.authed(s.handleReconcileRuns))
	s.mux.HandleFunc("GET /api/v1/reconcile/runs/{id}", s.authed(s.handleReconcileRun))
	// Any other /api/v1 request (an unknown path, or a method a path does
	// not take) is answered in the API's JSON error shape, not by the
	// console's HTML page.
	s.mux.HandleFunc("/api/v1/", s.handleNoRoute)
	if s.cfg.SCIM != nil {
		s.mux.Handle("/scim/v2/", s.cfg.SCIM) // Users for identity providers: scim/server.go lists its routes
	}
	if s.cfg.Console != nil {
		s.mux.Handle("/", s.cfg.Console) // the admin console: console/routes.go lists its pages
	}
}
