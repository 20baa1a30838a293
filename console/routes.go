package console

// routes lists every route of the console. Pages are GET; every POST
// changes state and passes CrossOriginProtection first (console.go).
func (c *Console) routes() {
	c.mux.Handle("GET /static/", c.static)
	c.mux.HandleFunc("GET /login", c.handleLoginPage)
	c.mux.HandleFunc("POST /login", c.handleLogin)
	c.mux.HandleFunc("GET /login/oidc", c.handleOIDCStart)             // oidc.go
	c.mux.HandleFunc("GET /login/oidc/callback", c.handleOIDCCallback) // oidc.go
	c.mux.HandleFunc("POST /logout", c.authed(c.handleLogout))
	c.mux.HandleFunc("GET /{$}", c.authed(c.handleOverview))
	c.mux.HandleFunc("GET /mappings", c.authed(c.handleMappings))
	c.mux.HandleFunc("GET /mappings/new", c.authed(c.handleEditor))
	c.mux.HandleFunc("POST /mappings/new", c.authed(c.handleEditorPost))
	c.mux.HandleFunc("GET /mappings/{name}/edit", c.authed(c.handleEditMapping))
	c.mux.HandleFunc("POST /mappings/{name}/edit", c.authed(c.handleEditorPost))
	c.mux.HandleFunc("GET /plan", c.authed(c.handlePlan)) // inspectpages.go: plan, reconcile, guard, pull
	c.mux.HandleFunc("GET /reconcile", c.authed(c.handleReconcile))
	c.mux.HandleFunc("POST /reconcile", c.authed(c.handleReconcileStart))
	c.mux.HandleFunc("GET /reconcile/{id}", c.authed(c.handleReconcileRun))
	c.mux.HandleFunc("GET /guard", c.authed(c.handleGuard))
	c.mux.HandleFunc("POST /guard/approve", c.authed(c.handleApprove))
	c.mux.HandleFunc("GET /pull", c.authed(c.handlePull))
	c.mux.HandleFunc("POST /pull/redeliver", c.authed(c.handleRedeliver))
	c.mux.HandleFunc("GET /records", c.authed(c.handleRecords))
	c.mux.HandleFunc("GET /records/{source}/{key}", c.authed(c.handleRecord))
	c.mux.HandleFunc("POST /records/{source}/{key}/fields", c.authed(c.handleEditFields))
	c.mux.HandleFunc("POST /retry", c.authed(c.handleRetry))
	c.mux.HandleFunc("GET /failures", c.authed(c.handleFailures))
	c.mux.HandleFunc("GET /runs", c.authed(c.handleRuns))
	c.mux.HandleFunc("GET /connections", c.authed(c.handleConnections))
	c.mux.HandleFunc("GET /connections/new", c.authed(c.handleConnectForm))
	c.mux.HandleFunc("POST /connections/new", c.authed(c.handleConnectStart))
	c.mux.HandleFunc("GET /connections/callback", c.authed(c.handleConnectCallback))
	c.mux.HandleFunc("GET /connections/{name}", c.authed(c.handleConnection))
	c.mux.HandleFunc("GET /api", c.authed(c.handleAPIDoc))
	c.mux.HandleFunc("/", c.handleNotFound)
}
