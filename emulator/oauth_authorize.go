package emulator

import (
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed oauth_login.html.tmpl
var loginPageText string

var loginPage = template.Must(template.New("login").Parse(loginPageText))

// loginCookie names the browser cookie of a login to the emulator, as
// Salesforce's "sid".
const loginCookie = "sid"

// ticketTTL is how long an approve page can be answered.
const ticketTTL = 10 * time.Minute

// authorizeRequest is a validated /services/oauth2/authorize request.
type authorizeRequest struct {
	app                 *oauthApp
	redirectURI         string
	state               string
	scopes              []string
	codeChallenge       string
	codeChallengeMethod string
	loginHint           string
	prompt              string
	nonce               string
	// responseType is "code" (web-server flow) or "token" (user-agent
	// flow: the token itself comes back in the redirect's fragment).
	responseType string
}

// hidden lists the request's parameters for the forms of the login and approve
// pages, so each POST carries the whole request again.
func (a *authorizeRequest) hidden(r *http.Request) []hiddenField {
	var out []hiddenField
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "scope",
		"code_challenge", "code_challenge_method", "login_hint", "prompt", "nonce"} {
		if v := r.Form.Get(k); v != "" {
			out = append(out, hiddenField{k, v})
		}
	}
	return out
}

type hiddenField struct{ Name, Value string }

// approveTicket is an approve page shown to a logged-in browser.
type approveTicket struct {
	login   string // the login cookie the page was shown to
	userID  string
	expires time.Time
}

// loginPageData is what oauth_login.html.tmpl renders.
type loginPageData struct {
	Page             string // "error", "login" or "approve"
	Title            string
	ErrorCode        string
	ErrorDescription string
	Error            string
	ClientID         string
	Username         string
	Scopes           []string
	Hidden           []hiddenField
	Ticket           string
}

func renderPage(w http.ResponseWriter, status int, d loginPageData) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, d)
}

// scopeText describes scopes on the approve page as Salesforce words them.
var scopeText = map[string]string{
	"api":            "Manage user data via APIs (api)",
	"refresh_token":  "Perform requests at any time (refresh_token, offline_access)",
	"offline_access": "Perform requests at any time (refresh_token, offline_access)",
	"full":           "Full access (full)",
	"web":            "Manage user data via Web browsers (web)",
	"openid":         "Access unique user identifiers (openid)",
	"id":             "Access the identity URL service (id, profile, email, address, phone)",
	"profile":        "Access the identity URL service (id, profile, email, address, phone)",
	"email":          "Access the identity URL service (id, profile, email, address, phone)",
}

// serveAuthorize is GET and POST /services/oauth2/authorize: the web-server
// flow's login and approve pages, or, in auto-approve mode, an immediate
// redirect with a code for automation.
//
// Errors about the client or the redirect URI are shown on the page (sending
// them to an untrusted URI would help phishing); the rest go back to the
// redirect URI as ?error=...&error_description=...
func (e *Emulator) serveAuthorize(c *call) {
	w, r := c.w, c.r
	r.Body = http.MaxBytesReader(w, r.Body, maxOAuthBody)
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, loginPageData{Page: "error", Title: "Error",
			ErrorCode: "invalid_request", ErrorDescription: "malformed request"})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	clientID := r.Form.Get("client_id")
	app := e.appLocked(clientID)
	if app == nil {
		renderPage(w, http.StatusBadRequest, loginPageData{Page: "error", Title: "Error",
			ErrorCode: "invalid_client_id", ErrorDescription: "client identifier invalid"})
		return
	}
	ar := &authorizeRequest{
		app:                 app,
		redirectURI:         r.Form.Get("redirect_uri"),
		state:               r.Form.Get("state"),
		scopes:              parseScopes(r.Form.Get("scope")),
		codeChallenge:       r.Form.Get("code_challenge"),
		codeChallengeMethod: r.Form.Get("code_challenge_method"),
		loginHint:           r.Form.Get("login_hint"),
		prompt:              r.Form.Get("prompt"),
		nonce:               r.Form.Get("nonce"),
		responseType:        r.Form.Get("response_type"),
	}
	if ar.redirectURI == "" || !app.allowsRedirect(ar.redirectURI) {
		renderPage(w, http.StatusBadRequest, loginPageData{Page: "error", Title: "Error",
			ErrorCode: "redirect_uri_mismatch", ErrorDescription: "redirect_uri must match configuration"})
		return
	}
	if rt := ar.responseType; rt != "code" && rt != "token" {
		desc := "response type not supported"
		if rt == "" {
			desc = "response_type is missing"
		}
		redirectError(w, r, ar, "unsupported_response_type", desc)
		return
	}
	switch strings.ToLower(ar.codeChallengeMethod) {
	case "", "s256":
		ar.codeChallengeMethod = "S256"
	case "plain":
		ar.codeChallengeMethod = "plain"
	default:
		redirectError(w, r, ar, "invalid_request", "invalid code challenge method")
		return
	}
	if ar.codeChallenge != "" && !validChallenge(ar.codeChallenge) {
		redirectError(w, r, ar, "invalid_request", "invalid code challenge")
		return
	}
	if len(ar.scopes) == 0 {
		ar.scopes = defaultScopes
	}

	// Automation: approve at once for the login_hint user or the admin.
	if e.cfg.AutoApprove || truthy(r.Form.Get("auto_approve")) {
		u := e.adminLocked()
		if ar.loginHint != "" {
			u = e.userByNameLocked(ar.loginHint)
		}
		if u == nil || !u.Active {
			redirectError(w, r, ar, "access_denied", "unknown user "+ar.loginHint)
			return
		}
		e.issueCodeLocked(w, r, ar, u)
		return
	}

	if r.Method == http.MethodPost {
		switch r.PostForm.Get("emulator_step") {
		case "login":
			e.authorizeLoginLocked(w, r, ar)
			return
		case "approve":
			e.authorizeApproveLocked(w, r, ar)
			return
		}
	}
	// A browser already logged in goes to the approve page, or straight back
	// with a code when it approved this app before.
	if u := e.browserUserLocked(r); u != nil && !strings.Contains(ar.prompt, "login") {
		if e.oauth.approved[u.ID+" "+app.ClientID] && !strings.Contains(ar.prompt, "consent") {
			e.issueCodeLocked(w, r, ar, u)
			return
		}
		e.showApproveLocked(w, r, ar, u)
		return
	}
	renderPage(w, http.StatusOK, loginPageData{Page: "login", Title: "Login", ClientID: app.ClientID,
		Username: ar.loginHint, Hidden: ar.hidden(r)})
}

// authorizeLoginLocked checks the login form's credentials.
func (e *Emulator) authorizeLoginLocked(w http.ResponseWriter, r *http.Request, ar *authorizeRequest) {
	username := r.PostForm.Get("username")
	u := e.userByNameLocked(username)
	if !e.checkPasswordLocked(u, r.PostForm.Get("password")) {
		renderPage(w, http.StatusOK, loginPageData{Page: "login", Title: "Login", ClientID: ar.app.ClientID,
			Username: username, Hidden: ar.hidden(r),
			Error: "Please check your username and password. If you still can't log in, contact your Salesforce administrator."})
		return
	}
	sid := randomToken(24)
	e.oauth.logins[sid] = u.ID
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: sid, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	if e.oauth.approved[u.ID+" "+ar.app.ClientID] && !strings.Contains(ar.prompt, "consent") {
		e.issueCodeLocked(w, r, ar, u)
		return
	}
	e.showApproveLockedFor(w, r, ar, u, sid)
}

// authorizeApproveLocked answers the approve page.
func (e *Emulator) authorizeApproveLocked(w http.ResponseWriter, r *http.Request, ar *authorizeRequest) {
	id := r.PostForm.Get("ticket")
	t, ok := e.oauth.tickets[id]
	delete(e.oauth.tickets, id)
	ck, _ := r.Cookie(loginCookie)
	if !ok || ck == nil || ck.Value != t.login || !e.now().Before(t.expires) || e.oauth.logins[t.login] != t.userID {
		// A stale or foreign approve form: start over at the login page.
		renderPage(w, http.StatusOK, loginPageData{Page: "login", Title: "Login", ClientID: ar.app.ClientID,
			Hidden: ar.hidden(r), Error: "Your session has expired. Please log in again."})
		return
	}
	u := e.userByIDLocked(t.userID)
	if u == nil {
		renderPage(w, http.StatusOK, loginPageData{Page: "login", Title: "Login", ClientID: ar.app.ClientID, Hidden: ar.hidden(r)})
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		redirectError(w, r, ar, "access_denied", "end-user denied authorization")
		return
	}
	e.oauth.approved[u.ID+" "+ar.app.ClientID] = true
	e.issueCodeLocked(w, r, ar, u)
}

// browserUserLocked is the user the request's login cookie logged in; nil if none.
func (e *Emulator) browserUserLocked(r *http.Request) *oauthUser {
	ck, err := r.Cookie(loginCookie)
	if err != nil {
		return nil
	}
	id, ok := e.oauth.logins[ck.Value]
	if !ok {
		return nil
	}
	return e.userByIDLocked(id)
}

func (e *Emulator) showApproveLocked(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, u *oauthUser) {
	ck, _ := r.Cookie(loginCookie)
	e.showApproveLockedFor(w, r, ar, u, ck.Value)
}

// showApproveLockedFor renders the approve page for the browser logged in
// with cookie sid.
func (e *Emulator) showApproveLockedFor(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, u *oauthUser, sid string) {
	now := e.now()
	for k, t := range e.oauth.tickets { // forget pages nobody answered
		if !now.Before(t.expires) {
			delete(e.oauth.tickets, k)
		}
	}
	ticket := randomToken(24)
	e.oauth.tickets[ticket] = &approveTicket{login: sid, userID: u.ID, expires: now.Add(ticketTTL)}
	var scopes []string
	for _, s := range ar.scopes {
		txt := scopeText[s]
		if txt == "" {
			txt = s
		}
		if !containsString(scopes, txt) {
			scopes = append(scopes, txt)
		}
	}
	renderPage(w, http.StatusOK, loginPageData{Page: "approve", Title: "Allow Access", ClientID: ar.app.ClientID,
		Username: u.Username, Scopes: scopes, Hidden: ar.hidden(r), Ticket: ticket})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// issueCodeLocked stores an authorization code for u and redirects the
// browser to the client with it.
func (e *Emulator) issueCodeLocked(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, u *oauthUser) {
	if ar.responseType == "token" {
		e.issueTokenLocked(w, r, ar, u)
		return
	}
	now := e.now()
	for k, ac := range e.authCodes { // forget codes nobody exchanged
		if !now.Before(ac.Expires) {
			delete(e.authCodes, k)
		}
	}
	code := randomToken(32)
	e.authCodes[code] = &authCode{
		ClientID:            ar.app.ClientID,
		UserID:              u.ID,
		Username:            u.Username,
		RedirectURI:         ar.redirectURI,
		Scopes:              ar.scopes,
		CodeChallenge:       ar.codeChallenge,
		CodeChallengeMethod: ar.codeChallengeMethod,
		Nonce:               ar.nonce,
		Expires:             now.Add(authCodeTTL),
	}
	q := url.Values{"code": {code}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	redirectWith(w, r, ar.redirectURI, q)
}

// issueTokenLocked ends the user-agent flow (response_type=token,
// salesforce-api.md §2.1): it mints a session for u and redirects to the
// client with the token response's fields in the URL fragment, where a
// browser app reads them (#access_token=..&instance_url=..&id=..).
func (e *Emulator) issueTokenLocked(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, u *oauthUser) {
	withRefresh := ar.app.alwaysRefresh || hasScope(ar.scopes, "refresh_token", "offline_access", "full")
	tok := e.grantLocked(r, ar.app, u, ar.scopes, withRefresh, false, "", true, ar.nonce)
	f := url.Values{
		"access_token": {tok.AccessToken}, "instance_url": {tok.InstanceURL}, "id": {tok.ID},
		"issued_at": {tok.IssuedAt}, "signature": {tok.Signature}, "scope": {tok.Scope}, "token_type": {tok.TokenType},
	}
	if tok.RefreshToken != "" {
		f.Set("refresh_token", tok.RefreshToken)
	}
	if tok.IDToken != "" {
		f.Set("id_token", tok.IDToken)
	}
	if ar.state != "" {
		f.Set("state", ar.state)
	}
	u2, _ := url.Parse(ar.redirectURI) // validated by allowsRedirect
	u2.Fragment = ""
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	http.Redirect(w, r, u2.String()+"#"+f.Encode(), http.StatusFound)
}

// redirectError sends an authorize error back to the client's redirect URI.
func redirectError(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, code, desc string) {
	q := url.Values{"error": {code}, "error_description": {desc}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	redirectWith(w, r, ar.redirectURI, q)
}

// redirectWith answers 302 to base with q added to its query.
func redirectWith(w http.ResponseWriter, r *http.Request, base string, q url.Values) {
	u, _ := url.Parse(base) // validated by allowsRedirect
	if u.RawQuery != "" {
		u.RawQuery += "&" + q.Encode()
	} else {
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// validChallenge reports whether a PKCE code_challenge has RFC 7636's shape:
// 43 to 128 characters of the unreserved set.
func validChallenge(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// truthy reports whether a flag parameter is on ("1", "true", "yes").
func truthy(s string) bool {
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return strings.EqualFold(s, "yes") || strings.EqualFold(s, "on")
}
