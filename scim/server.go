// Package scim is forcesync's SCIM 2.0 door (RFC 7643, RFC 7644): identity
// providers such as Okta, Microsoft Entra ID or OneLogin provision Users
// into one forcesync source, and the source's mappings push them to
// Salesforce like any other change.
//
// Each User is one source record: its key is the SCIM id, and its fields
// are the flat attributes mappings read (userName, givenName, email,
// active, department, ...; see Flatten) plus the whole resource under
// "scim", from which reads are answered.
package scim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// Schema URNs.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaList           = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatch          = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaSPC            = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// contentType is SCIM's media type (RFC 7644 §8.1).
const contentType = "application/scim+json"

// Limits of one request.
const (
	maxBody    = 1 << 20 // bytes of a User or a PATCH
	maxResults = 1000    // resources in one list page
	scanPage   = 1000    // records read at a time by a filter the store cannot answer
)

// Engine is what the door needs of the push engine.
type Engine interface {
	// MappingsFor names the mappings a source feeds.
	MappingsFor(source string) []string
	// Notify wakes the workers after new changes were accepted.
	Notify()
}

// Config holds the server's dependencies.
type Config struct {
	Store  forcesync.Store
	Engine Engine
	// Source is the source the Users are accepted into.
	Source string
	// Token is the bearer token the identity provider sends. Empty refuses
	// every request.
	Token string
	// Passwords, when set, receives the password a client sends with a
	// User (forcesync keeps none; engine.Passwords holds it in memory until
	// the User mapping sets it in Salesforce). Nil: passwords are dropped.
	Passwords interface {
		Keep(ctx context.Context, source, key, password string) error
	}
	// Tokens are more tokens that open the door: serve passes the server's
	// api_token (it opens every source) and the api_token of Source itself.
	// Another source's token opens nothing here.
	Tokens []string
	Logger *slog.Logger
	Now    func() time.Time
}

// Server serves /scim/v2/.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the SCIM server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /scim/v2/ServiceProviderConfig", s.handleSPC)
	s.mux.HandleFunc("GET /scim/v2/ResourceTypes", s.handleResourceTypes)
	s.mux.HandleFunc("GET /scim/v2/ResourceTypes/{id}", s.handleResourceTypes)
	s.mux.HandleFunc("GET /scim/v2/Schemas", s.handleSchemas)
	s.mux.HandleFunc("GET /scim/v2/Schemas/{id}", s.handleSchemas)
	s.mux.HandleFunc("GET /scim/v2/Users", s.handleList)
	s.mux.HandleFunc("POST /scim/v2/Users/.search", s.handleSearch) // list.go
	s.mux.HandleFunc("POST /scim/v2/.search", s.handleSearch)
	s.mux.HandleFunc("POST /scim/v2/Users", s.handleCreate)
	s.mux.HandleFunc("GET /scim/v2/Users/{id}", s.handleGet)
	s.mux.HandleFunc("PUT /scim/v2/Users/{id}", s.handleReplace)
	s.mux.HandleFunc("PATCH /scim/v2/Users/{id}", s.handlePatch)
	s.mux.HandleFunc("DELETE /scim/v2/Users/{id}", s.handleDelete)
	s.mux.HandleFunc("GET /scim/v2/Groups", s.handleGroupList) // groups.go
	s.mux.HandleFunc("POST /scim/v2/Groups", s.handleGroupCreate)
	s.mux.HandleFunc("GET /scim/v2/Groups/{id}", s.handleGroupGet)
	s.mux.HandleFunc("PUT /scim/v2/Groups/{id}", s.handleGroupReplace)
	s.mux.HandleFunc("PATCH /scim/v2/Groups/{id}", s.handleGroupPatch)
	s.mux.HandleFunc("DELETE /scim/v2/Groups/{id}", s.handleGroupDelete)
	// RFC 7644 §3.11: a server without /Me answers 501; /Bulk likewise
	// (ServiceProviderConfig says bulk is not supported).
	notImplemented := func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, &Error{Status: http.StatusNotImplemented, Detail: r.URL.Path + " is not implemented by forcesync"})
	}
	s.mux.HandleFunc("/scim/v2/Me", notImplemented)
	s.mux.HandleFunc("/scim/v2/Me/", notImplemented)
	s.mux.HandleFunc("/scim/v2/Bulk", notImplemented)
	s.mux.HandleFunc("/scim/v2/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, &Error{Status: http.StatusNotFound, Detail: "no such SCIM endpoint: " + r.Method + " " + r.URL.Path})
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="forcesync-scim"`)
		s.fail(w, &Error{Status: http.StatusUnauthorized, Detail: "a valid bearer token for source " + s.cfg.Source + " is required (the scim token, its source's api_token or the server's api_token)"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	// The scheme is case-insensitive (RFC 7235 §2.1): some clients send
	// "bearer".
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	for _, want := range append([]string{s.cfg.Token}, s.cfg.Tokens...) {
		if want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// write sends v as SCIM JSON with status.
func (s *Server) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.cfg.Logger.Debug("scim: writing response", "err", err)
	}
}

// fail sends err as a SCIM error; errors that are not *Error are mapped
// by their forcesync code (errors.go's errorOf), and the ones that are not
// the client's fault are logged.
func (s *Server) fail(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = asError(err)
		switch e.Status {
		case http.StatusInternalServerError:
			s.cfg.Logger.Error("scim: request failed", "err", err)
		case http.StatusServiceUnavailable:
			s.cfg.Logger.Warn("scim: store unavailable", "err", err)
			w.Header().Set("Retry-After", "5")
		}
	}
	body := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	s.write(w, e.Status, body)
}

// readJSON decodes a request body of at most maxBody bytes into v.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errorf("invalidSyntax", "reading the body: %v", err)
	}
	if len(b) > maxBody {
		return &Error{Status: http.StatusRequestEntityTooLarge, ScimType: "tooLarge", Detail: fmt.Sprintf("the body is over %d bytes", maxBody)}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errorf("invalidSyntax", "the body is not valid JSON: %v", err)
	}
	return nil
}

// user is a stored User: its record and its resource.
type user struct {
	rec *forcesync.SourceRecord
	res map[string]any
}

// load reads the User with id; deleted or unknown is a 404, and one whose
// stored fields cannot be read back is the error unreadable makes.
func (s *Server) load(ctx context.Context, id string) (*user, error) {
	u, err := s.read(ctx, id)
	if err == nil && u.rec.Unreadable != nil {
		err = s.unreadableOr(u.rec.Unreadable, "User", id)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// read is load that answers a User whose stored fields cannot be read
// back instead of refusing it: its rec.Unreadable is set, and its res
// holds only what identifies it (see identity), read from the stored
// fields as far as they decode (rec.Fields, for salvage). A full
// replacement (PUT) needs no more, a deactivation or a delete takes the
// User as salvage reads it, and a Group change needs to know. When not even that decodes, nothing
// says the record is a User: read then refuses it as load does.
func (s *Server) read(ctx context.Context, id string) (*user, error) {
	rec, err := s.cfg.Store.SourceRecord(ctx, s.cfg.Source, id)
	if forcesync.ErrorCode(err) == forcesync.ENotFound || (rec != nil && rec.Deleted) {
		return nil, &Error{Status: http.StatusNotFound, Detail: "User " + id + " not found"}
	}
	re, ok := errors.AsType[*forcesync.RecordError](err)
	if ok && re.Code == forcesync.CodeUnreadableRecord && rec != nil && rec.Fields != nil {
		rec.Unreadable, err = re, nil
	}
	if err != nil {
		return nil, s.unreadableOr(err, "User", id)
	}
	res, _ := rec.Fields["scim"].(map[string]any)
	if res == nil {
		// A record of this source that did not come through SCIM.
		return nil, &Error{Status: http.StatusNotFound, Detail: "User " + id + " not found"}
	}
	if rec.Unreadable != nil {
		res = identity(id, res)
	}
	return &user{rec: rec, res: res}, nil
}

// identity is the stand-in for the stored resource id whose other
// attributes cannot be read back: its id, and of stored (the resource as
// far as it decodes; nil: none) its schemas, externalId, userName (a
// User), displayName (a Group) and meta.
func identity(id string, stored map[string]any) map[string]any {
	stand := map[string]any{"id": id}
	for _, name := range []string{"schemas", "externalId", "userName", "displayName", "meta"} {
		if k, ok := attrKey(stored, name); ok {
			stand[k] = stored[k]
		}
	}
	return stand
}

// base is the URL of /scim/v2 as the request reached it.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}

// location is the URL of the User with id.
func location(r *http.Request, id string) string { return base(r) + "/Users/" + id }

// present returns the resource as served: meta completed for r.
func present(r *http.Request, u *user) map[string]any {
	out := make(map[string]any, len(u.res)+1)
	for k, v := range u.res {
		out[k] = v
	}
	meta := map[string]any{"resourceType": "User"}
	if m, ok := u.res["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	meta["location"] = location(r, u.rec.Key)
	meta["version"] = etag(u.rec.Version)
	out["meta"] = meta
	out["id"] = u.rec.Key
	return out
}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// password returns the password a client set on res, or "".
func password(res map[string]any) string {
	if k, ok := attrKey(res, "password"); ok {
		pw, _ := res[k].(string)
		return pw
	}
	return ""
}

// keepPassword hands a User's password to Config.Passwords, before the
// change is stored, so the engine finds it when it pushes the change (and
// the store marks it pending, so a restart that loses it shows).
func (s *Server) keepPassword(ctx context.Context, id, pw string) error {
	if pw != "" && s.cfg.Passwords != nil {
		return s.cfg.Passwords.Keep(ctx, s.cfg.Source, id, pw)
	}
	return nil
}

// clean checks a User from a client and drops what is not the client's to
// set: id, meta, and password (forcesync never keeps one).
func clean(res map[string]any) error {
	if res == nil {
		return errorf("invalidSyntax", "the body is not a JSON object")
	}
	if raw, ok := res["schemas"]; ok {
		list, _ := raw.([]any)
		found := false
		for _, v := range list {
			if s, _ := v.(string); strings.EqualFold(s, SchemaUser) {
				found = true
			}
		}
		if !found {
			return errorf("invalidValue", "schemas must include %s", SchemaUser)
		}
	}
	for k := range res {
		switch strings.ToLower(k) {
		case "id", "meta", "password", "groups":
			delete(res, k) // groups: read-only, decided by the Groups (groups.go)
		}
	}
	name, _ := attr(res, "userName").(string)
	if strings.TrimSpace(name) == "" {
		return errorf("invalidValue", "userName is required and must be a non-empty string")
	}
	// The same leniency as PATCH (patch.go's normalizeValue): "True" and
	// "False" strings for active and for primary (Entra sends
	// "primary": "True", and Flatten picks the primary email by it), a
	// manager given as a plain string. Nulls are unassigned attributes.
	for k, v := range res {
		nv, err := normalizeValue(k, v)
		if err != nil {
			return err
		}
		if nv = dropNullsDeep(nv); nv == nil {
			delete(res, k)
		} else {
			res[k] = nv
		}
	}
	return nil
}

// dropNullsDeep removes null-valued attributes from the objects in v, at
// any depth, and returns v (nil when v itself is null).
func dropNullsDeep(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if child = dropNullsDeep(child); child == nil {
				delete(x, k)
			} else {
				x[k] = child
			}
		}
	case []any:
		for i, child := range x {
			x[i] = dropNullsDeep(child)
		}
	}
	return v
}

// attr returns the attribute name of res, ignoring case; nil when absent.
func attr(res map[string]any, name string) any {
	v, _ := getAttr(res, name)
	return v
}

// newID returns a random (version 4) UUID, the form SCIM ids usually take.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// reserveName makes sure userName is free for the User id (new when id is
// ""): no other User has it, and no other request is giving it to one
// right now. The reservation is a hold in the store (the one that keeps
// match-by-Email twins apart), so it works across replicas; call release
// once the User is saved.
func (s *Server) reserveName(ctx context.Context, userName, id string) (release func(), err error) {
	scope, owner, value := "scim-userName/"+s.cfg.Source, "scim/"+newID(), strings.ToLower(userName)
	now := s.cfg.Now()
	held, err := s.cfg.Store.HoldMatches(ctx, scope, owner, []string{value}, now, now.Add(nameHold))
	if err != nil {
		return nil, err
	}
	if len(held) == 0 {
		return nil, &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "another request is saving a User with userName " + strconv.Quote(userName)}
	}
	release = func() {
		if err := s.cfg.Store.ReleaseMatches(context.WithoutCancel(ctx), scope, owner, held); err != nil {
			s.cfg.Logger.Warn("scim: releasing a userName hold (it runs out by itself)", "err", err)
		}
	}
	taken, err := s.taken(ctx, userName, id)
	if err == nil && taken {
		err = &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "a User with userName " + strconv.Quote(userName) + " exists"}
	}
	if err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// nameHold bounds how long a request may hold a userName; a request is
// much shorter, and a crashed process's holds free themselves.
const nameHold = 30 * time.Second

// unreadablePatch logs and returns the error unreadablePatchError makes
// for a PATCH of the User id, whose stored fields cannot be read back
// (re), that does more than deactivate it.
func (s *Server) unreadablePatch(re *forcesync.RecordError, id string) error {
	s.cfg.Logger.Warn("scim: a PATCH needs attributes of a stored User that cannot be read back; a PUT of the User repairs it", "event", "scim.unreadable",
		"source", s.cfg.Source, "id", id, "fields", strings.Join(re.Fields, ","))
	return unreadablePatchError("User", id, "changes attributes beside active, which it applies to the stored ones",
		"a PATCH that only deactivates the User (active false) is accepted as it is, and a PUT of the whole User repairs it")
}

// unreadableOr returns, for err reading the resource id of kind, the error
// unreadable makes when the record's stored fields cannot be read back
// (logged with the field for the operator), and err otherwise.
func (s *Server) unreadableOr(err error, kind, id string) error {
	re, ok := errors.AsType[*forcesync.RecordError](err)
	if !ok || re.Code != forcesync.CodeUnreadableRecord {
		return err
	}
	s.cfg.Logger.Warn("scim: a stored "+kind+" cannot be read back; send it again to repair it", "event", "scim.unreadable",
		"source", s.cfg.Source, "id", id, "fields", strings.Join(re.Fields, ","))
	return unreadable(kind, id)
}

// taken reports whether another User than id has userName.
func (s *Server) taken(ctx context.Context, userName, id string) (bool, error) {
	recs, err := s.cfg.Store.SourceRecords(ctx, forcesync.SourceQuery{Source: s.cfg.Source, Field: "userName", Value: userName, Limit: 2})
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		// An unreadable record matched by its stored userName has it.
		if r.Key != id && (r.Fields["scim"] != nil || r.Unreadable != nil) {
			return true, nil
		}
	}
	return false, nil
}

// save stores res as the User id at version (0: the next), stamping meta
// with created (kept from before) and lastModified. It returns the record,
// or nil when version was not above the stored one (a concurrent write).
func (s *Server) save(ctx context.Context, id string, res map[string]any, created string, version int64, op forcesync.Op) (*forcesync.SourceRecord, error) {
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	if created == "" {
		created = now
	}
	res["schemas"] = schemasOf(res)
	res["id"] = id
	res["meta"] = map[string]any{"resourceType": "User", "created": created, "lastModified": now}
	if k, ok := attrKey(res, "active"); ok && op == forcesync.OpUpsert && res[k] == false {
		// An inactive User is a disabled record: the mappings apply their
		// disable action (a Salesforce User's IsActive=false).
		op = forcesync.OpDisable
	}
	fields := Flatten(res)
	fields["groups"] = groupNames(res)
	fields["scim"] = res
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, errorf("invalidValue", "the User cannot be stored: %v", err)
	}
	ch, err := checked("User", forcesync.Change{
		Source: s.cfg.Source, Key: id, Op: op, Version: version, FieldsJSON: body, Priority: forcesync.PriorityRealtime,
	})
	if err != nil {
		return nil, err
	}
	results, err := s.cfg.Store.Accept(ctx, s.cfg.Engine.MappingsFor(s.cfg.Source), []forcesync.Change{ch})
	if err != nil {
		return nil, err
	}
	if results[0].Ignored {
		return nil, nil
	}
	s.cfg.Engine.Notify()
	return &forcesync.SourceRecord{Source: s.cfg.Source, Key: id, Version: results[0].Version, Fields: fields, Updated: s.cfg.Now()}, nil
}

// schemasOf lists the core schema and every extension res carries (RFC
// 7643 §3: "schemas" names each schema the resource's attributes come
// from): the enterprise extension, and others such as the custom ones an
// Entra ID admin adds, kept as the client sent them.
func schemasOf(res map[string]any) []string {
	out := []string{SchemaUser}
	if _, ok := attrKey(res, SchemaEnterpriseUser); ok {
		out = append(out, SchemaEnterpriseUser)
	}
	var others []string
	for k, v := range res {
		if _, isObject := v.(map[string]any); isObject && len(k) > 4 && strings.EqualFold(k[:4], "urn:") &&
			!strings.EqualFold(k, SchemaEnterpriseUser) && !isCoreSchemaURN(k) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	return append(out, others...)
}

func createdOf(res map[string]any) string {
	if m, ok := res["meta"].(map[string]any); ok {
		c, _ := m["created"].(string)
		return c
	}
	return ""
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var res map[string]any
	if err := readJSON(r, &res); err != nil {
		s.fail(w, err)
		return
	}
	pw := password(res)
	if err := clean(res); err != nil {
		s.fail(w, err)
		return
	}
	if err := checkShapes(res, nil); err != nil {
		s.fail(w, err)
		return
	}
	release, err := s.reserveName(r.Context(), attr(res, "userName").(string), "")
	if err != nil {
		s.fail(w, err)
		return
	}
	defer release()
	id := newID()
	if err := s.keepPassword(r.Context(), id, pw); err != nil {
		s.fail(w, err)
		return
	}
	rec, err := s.save(r.Context(), id, res, "", 0, forcesync.OpUpsert)
	if err == nil && rec == nil {
		err = fmt.Errorf("scim: new User %s collided with a stored record", id)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	u := &user{rec: rec, res: res}
	w.Header().Set("Location", location(r, id))
	w.Header().Set("ETag", etag(rec.Version))
	s.write(w, http.StatusCreated, present(r, u))
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	u, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(u.rec.Version))
	if notModified(r, u.rec.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.write(w, http.StatusOK, project(r, present(r, u)))
}

// update replaces the stored User id by what change makes of a copy of
// it, retrying when another request wrote the User in between. A User
// whose stored fields cannot be read back is also accepted, and repaired:
//
//   - by a replacement (PUT, whole: change reads nothing of the old User).
//     What it keeps of the stored User (id, meta.created, the version
//     If-Match is checked against, the userName it had) can still be read.
//   - by a PATCH that only deactivates it (see deactivates): an identity
//     provider deprovisions with one, and cannot send a whole PUT first.
//     It applies to the User as far as it can be read (see salvage).
//
// Either way its groups are read from the Groups. Any other PATCH needs
// attributes that cannot be read, and is the error unreadablePatch makes.
func (s *Server) update(w http.ResponseWriter, r *http.Request, whole bool, change func(old map[string]any) (map[string]any, error)) {
	id := r.PathValue("id")
	for attempt := 0; ; attempt++ {
		u, err := s.read(r.Context(), id)
		if err == nil {
			err = precondition(r, "User", u.rec.Version)
		}
		var dropped []string
		if err == nil && u.rec.Unreadable != nil {
			if !whole {
				stored, _ := u.rec.Fields["scim"].(map[string]any)
				u.res, dropped = salvage(stored)
			}
			err = s.regroup(r.Context(), u)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		res, err := change(cloneResource(u.res))
		if err == nil && u.rec.Unreadable != nil && !whole && !deactivates(u.res, res) {
			err = s.unreadablePatch(u.rec.Unreadable, id)
		}
		pw := ""
		if err == nil {
			pw = password(res)
			err = clean(res)
		}
		if err == nil {
			err = checkShapes(res, u.res)
		}
		if g, ok := u.res["groups"]; ok && err == nil {
			res["groups"] = g
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		release := func() {}
		name := attr(res, "userName").(string)
		if old, _ := attr(u.res, "userName").(string); !strings.EqualFold(old, name) {
			if release, err = s.reserveName(r.Context(), name, id); err != nil {
				s.fail(w, err)
				return
			}
		}
		if err := s.keepPassword(r.Context(), id, pw); err != nil {
			release()
			s.fail(w, err)
			return
		}
		rec, err := s.save(r.Context(), id, res, createdOf(u.res), u.rec.Version+1, forcesync.OpUpsert)
		release()
		if err != nil {
			s.fail(w, err)
			return
		}
		if rec == nil {
			if attempt < 5 {
				continue // written meanwhile: apply the change to the newer User
			}
			s.fail(w, &Error{Status: http.StatusConflict, Detail: "the User keeps changing; try again"})
			return
		}
		if u.rec.Unreadable != nil {
			how := "replaced"
			if !whole {
				how = "deactivated"
			}
			s.repaired(how, "User", id, u.rec.Unreadable, dropped)
		}
		w.Header().Set("ETag", etag(rec.Version))
		s.write(w, http.StatusOK, present(r, &user{rec: rec, res: res}))
		return
	}
}

// repaired logs that the resource id of kind, whose stored fields could
// not be read back (re), was written back readable by a request (how:
// "replaced", "deactivated", ...), leaving out the values named by
// dropped (salvage's paths; none for a replacement).
func (s *Server) repaired(how, kind, id string, re *forcesync.RecordError, dropped []string) {
	s.cfg.Logger.Info("scim: a "+kind+" whose stored fields could not be read back was "+how+", and is stored readable again", "event", "scim.repaired",
		"source", s.cfg.Source, "id", id, "fields", strings.Join(re.Fields, ","), "dropped", strings.Join(dropped, ","))
}

func (s *Server) handleReplace(w http.ResponseWriter, r *http.Request) {
	var res map[string]any
	if err := readJSON(r, &res); err != nil {
		s.fail(w, err)
		return
	}
	s.update(w, r, true, func(map[string]any) (map[string]any, error) { return cloneResource(res), nil })
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.update(w, r, false, func(res map[string]any) (map[string]any, error) {
		if err := ApplyPatch(res, ops); err != nil {
			return nil, err
		}
		return res, nil
	})
}

// readPatch reads a PATCH body (RFC 7644 §3.5.2) for a User or a Group:
// the PatchOp schema and at least one operation.
func readPatch(r *http.Request) ([]PatchOp, error) {
	var body struct {
		Schemas    []string  `json:"schemas"`
		Operations []PatchOp `json:"Operations"`
	}
	if err := readJSON(r, &body); err != nil {
		return nil, err
	}
	ok := false
	for _, sc := range body.Schemas {
		ok = ok || strings.EqualFold(sc, schemaPatch)
	}
	if !ok {
		return nil, errorf("invalidValue", "schemas must be [%q]", schemaPatch)
	}
	if len(body.Operations) == 0 {
		return nil, errorf("invalidValue", "Operations is empty")
	}
	return body.Operations, nil
}

// handleDelete deletes the User. One whose stored fields cannot be read
// back is deleted too (an identity provider deprovisions with a DELETE,
// and the delete needs nothing of what cannot be read): the delete then
// carries the User as far as it can be read (see salvage), its groups
// read from the Groups, so that the engine, which holds a record it
// cannot read, deprovisions it by the mapping's rules like any other.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	u, err := s.read(r.Context(), id)
	if err == nil {
		err = precondition(r, "User", u.rec.Version)
	}
	var dropped []string
	if err == nil && u.rec.Unreadable != nil {
		stored, _ := u.rec.Fields["scim"].(map[string]any)
		u.res, dropped = salvage(stored)
		err = s.regroup(r.Context(), u)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	// The delete carries the last fields, so mappings that disable rather
	// than delete still see who it was.
	rec, err := s.save(r.Context(), u.rec.Key, cloneResource(u.res), createdOf(u.res), u.rec.Version+1, forcesync.OpDelete)
	if err == nil && rec == nil {
		err = &Error{Status: http.StatusConflict, Detail: "the User changed while being deleted; try again"}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if u.rec.Unreadable != nil {
		s.repaired("deleted", "User", id, u.rec.Unreadable, dropped)
	}
	w.WriteHeader(http.StatusNoContent)
}

// filtered returns one page of the Users filter matches, and how many
// match in all. A filter that is one equality on userName or externalId
// is looked up in the store; any other reads the source's Users through.
func (s *Server) filtered(ctx context.Context, k kind, f *Filter, start, count int) ([]forcesync.SourceRecord, int, error) {
	q := forcesync.SourceQuery{Source: k.source}
	if a, v, ok := f.EqualityOn(); ok && k.lookups && (strings.EqualFold(a, "userName") || strings.EqualFold(a, "externalId")) {
		q.Field, q.Value = flatName(a), v
	}
	var page []forcesync.SourceRecord
	total := 0
	err := s.scan(ctx, q, f, func(rec forcesync.SourceRecord) {
		total++
		if total >= start && len(page) < count {
			page = append(page, rec)
		}
	})
	if err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// flatName is the flat field name of a top-level attribute (its SCIM
// spelling, whatever case the filter used).
func flatName(a string) string {
	if strings.EqualFold(a, "externalId") {
		return "externalId"
	}
	return "userName"
}

func intParam(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

// cloneResource copies a resource deeply (see cloneValue).
func cloneResource(m map[string]any) map[string]any {
	return cloneValue(m).(map[string]any)
}
