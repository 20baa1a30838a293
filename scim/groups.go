package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// Groups (RFC 7643 §4.2). A Group is stored as a record of the source
// "<scim source>#groups", which no mapping reads; what mappings see is
// each member User's "groups" attribute (read-only for clients: the
// Groups' memberships decide it) and its flat field groups, the list of
// its Groups' displayNames. A mapping scoped to "member of group G" says
// filter: '"G" in groups'. Adding or removing a member, renaming or
// deleting a Group rewrites the member Users concerned, so their mappings
// see the change (leaving a Group's scope deprovisions the record).

const SchemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"

func (s *Server) groupSource() string { return s.cfg.Source + "#groups" }

func groupLocation(r *http.Request, id string) string { return base(r) + "/Groups/" + id }

// group is a stored Group.
type group struct {
	rec *forcesync.SourceRecord
	res map[string]any
}

func (s *Server) loadGroup(ctx context.Context, id string) (*group, error) {
	rec, err := s.cfg.Store.SourceRecord(ctx, s.groupSource(), id)
	if forcesync.ErrorCode(err) == forcesync.ENotFound || (err == nil && rec.Deleted) {
		return nil, &Error{Status: http.StatusNotFound, Detail: "Group " + id + " not found"}
	}
	if err != nil {
		return nil, s.unreadableOr(err, "Group", id)
	}
	res, _ := rec.Fields["scim"].(map[string]any)
	if res == nil {
		return nil, &Error{Status: http.StatusNotFound, Detail: "Group " + id + " not found"}
	}
	return &group{rec: rec, res: res}, nil
}

// memberIDs lists the member values of a Group resource.
func memberIDs(res map[string]any) []string {
	var out []string
	k, _ := attrKey(res, "members")
	list, _ := res[k].([]any)
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			if v, _ := attr(mm, "value").(string); v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func groupName(res map[string]any) string {
	n, _ := attr(res, "displayName").(string)
	return n
}

// cleanGroup checks a Group from a client and normalises its members.
func cleanGroup(res map[string]any) error {
	if res == nil {
		return errorf("invalidSyntax", "the body is not a JSON object")
	}
	for k := range res {
		switch strings.ToLower(k) {
		case "id", "meta":
			delete(res, k)
		}
	}
	if strings.TrimSpace(groupName(res)) == "" {
		return errorf("invalidValue", "displayName is required and must be a non-empty string")
	}
	var members []any
	for _, id := range memberIDs(res) {
		members = append(members, map[string]any{"value": id, "type": "User"})
	}
	if k, ok := attrKey(res, "members"); ok {
		delete(res, k)
	}
	if members != nil {
		res["members"] = members
	}
	res["schemas"] = []string{SchemaGroup}
	return nil
}

func presentGroup(r *http.Request, g *group) map[string]any {
	out := make(map[string]any, len(g.res)+1)
	for k, v := range g.res {
		out[k] = v
	}
	meta := map[string]any{"resourceType": "Group"}
	if m, ok := g.res["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	meta["location"] = groupLocation(r, g.rec.Key)
	meta["version"] = etag(g.rec.Version)
	out["meta"] = meta
	out["id"] = g.rec.Key
	if list, ok := out["members"].([]any); ok {
		ms := make([]any, len(list))
		for i, m := range list {
			mm, _ := m.(map[string]any)
			c := map[string]any{}
			for k, v := range mm {
				c[k] = v
			}
			c["$ref"] = location(r, fmt.Sprint(mm["value"]))
			ms[i] = c
		}
		out["members"] = ms
	}
	return out
}

// saveGroup stores a Group at version (0: the next), or deletes it, and
// brings its members' groups up to date. old is the Group before (nil
// when new).
func (s *Server) saveGroup(ctx context.Context, id string, res, old map[string]any, version int64, del bool) (*forcesync.SourceRecord, error) {
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	created := now
	if old != nil {
		if c := createdOf(old); c != "" {
			created = c
		}
	}
	res["id"] = id
	res["meta"] = map[string]any{"resourceType": "Group", "created": created, "lastModified": now}
	body, err := json.Marshal(map[string]any{"displayName": groupName(res), "scim": res})
	if err != nil {
		return nil, errorf("invalidValue", "the Group cannot be stored: %v", err)
	}
	op := forcesync.OpUpsert
	if del {
		op = forcesync.OpDelete
	}
	ch, err := checked("Group", forcesync.Change{Source: s.groupSource(), Key: id, Op: op, Version: version, FieldsJSON: body})
	if err != nil {
		return nil, err
	}
	results, err := s.cfg.Store.Accept(ctx, nil, []forcesync.Change{ch})
	if err != nil {
		return nil, err
	}
	if results[0].Ignored {
		return nil, nil
	}
	// Members whose view of this Group changed: added, removed, or all of
	// them when it was renamed or deleted.
	before, after := []string{}, memberIDs(res)
	if old != nil {
		before = memberIDs(old)
	}
	if del {
		after = nil
	}
	renamed := old != nil && groupName(old) != groupName(res)
	touched := map[string]bool{}
	for _, u := range before {
		if del || renamed || !slices.Contains(after, u) {
			touched[u] = true
		}
	}
	for _, u := range after {
		if renamed || !slices.Contains(before, u) {
			touched[u] = true
		}
	}
	for uid := range touched {
		member := slices.Contains(after, uid)
		if err := s.setMembership(ctx, uid, id, groupName(res), member); err != nil {
			return nil, err
		}
	}
	return &forcesync.SourceRecord{Source: s.groupSource(), Key: id, Version: results[0].Version}, nil
}

// setMembership writes User uid's groups attribute: in Group gid (named
// name) or not. Unknown Users are skipped (an identity provider may list
// members it never provisioned here).
func (s *Server) setMembership(ctx context.Context, uid, gid, name string, member bool) error {
	for attempt := 0; attempt < 5; attempt++ {
		u, err := s.load(ctx, uid)
		if err != nil {
			var se *Error
			if errorsAs(err, &se) && se.Status == http.StatusNotFound {
				return nil
			}
			return err
		}
		res := cloneResource(u.res)
		var groups []any
		list, _ := res["groups"].([]any)
		for _, g := range list {
			if gm, ok := g.(map[string]any); ok && gm["value"] != gid {
				groups = append(groups, gm)
			}
		}
		if member {
			groups = append(groups, map[string]any{"value": gid, "display": name, "type": "direct"})
		}
		if groups == nil {
			delete(res, "groups")
		} else {
			res["groups"] = groups
		}
		rec, err := s.save(ctx, uid, res, createdOf(u.res), u.rec.Version+1, forcesync.OpUpsert)
		if err != nil {
			return err
		}
		if rec != nil {
			return nil
		}
	}
	return &Error{Status: http.StatusConflict, Detail: "User " + uid + " keeps changing; try the Group again"}
}

// groupNames is the flat groups field of a User resource: its Groups'
// displayNames, empty when none (so '"G" in groups' is false, not an error).
func groupNames(res map[string]any) []any {
	out := []any{}
	list, _ := res["groups"].([]any)
	for _, g := range list {
		if gm, ok := g.(map[string]any); ok {
			if d, _ := gm["display"].(string); d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	var res map[string]any
	if err := readJSON(r, &res); err != nil {
		s.fail(w, err)
		return
	}
	if err := cleanGroup(res); err != nil {
		s.fail(w, err)
		return
	}
	id := newID()
	rec, err := s.saveGroup(r.Context(), id, res, nil, 0, false)
	if err == nil && rec == nil {
		err = fmt.Errorf("scim: new Group %s collided with a stored record", id)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Location", groupLocation(r, id))
	w.Header().Set("ETag", etag(rec.Version))
	s.write(w, http.StatusCreated, presentGroup(r, &group{rec: rec, res: res}))
}

func (s *Server) handleGroupGet(w http.ResponseWriter, r *http.Request) {
	g, err := s.loadGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(g.rec.Version))
	if notModified(r, g.rec.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.write(w, http.StatusOK, project(r, presentGroup(r, g)))
}

// updateGroup replaces the Group by what change makes of a copy of it.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, change func(old map[string]any) (map[string]any, error)) {
	id := r.PathValue("id")
	for attempt := 0; attempt < 5; attempt++ {
		g, err := s.loadGroup(r.Context(), id)
		if err == nil {
			err = precondition(r, g.rec.Version)
		}
		var res map[string]any
		if err == nil {
			res, err = change(cloneResource(g.res))
		}
		if err == nil {
			err = cleanGroup(res)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		rec, err := s.saveGroup(r.Context(), id, res, g.res, g.rec.Version+1, false)
		if err != nil {
			s.fail(w, err)
			return
		}
		if rec == nil {
			continue
		}
		w.Header().Set("ETag", etag(rec.Version))
		if r.Method == http.MethodPatch && len(r.URL.Query()["attributes"]) == 0 {
			// Okta and Entra read nothing back from a Group PATCH.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.write(w, http.StatusOK, project(r, presentGroup(r, &group{rec: rec, res: res})))
		return
	}
	s.fail(w, &Error{Status: http.StatusConflict, Detail: "the Group keeps changing; try again"})
}

func (s *Server) handleGroupReplace(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := readJSON(r, &body); err != nil {
		s.fail(w, err)
		return
	}
	s.updateGroup(w, r, func(map[string]any) (map[string]any, error) { return body, nil })
}

func (s *Server) handleGroupPatch(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.updateGroup(w, r, func(res map[string]any) (map[string]any, error) {
		for _, op := range ops {
			if err := patchGroup(res, op); err != nil {
				return nil, err
			}
		}
		return res, nil
	})
}

func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	g, err := s.loadGroup(r.Context(), r.PathValue("id"))
	if err == nil {
		err = precondition(r, g.rec.Version)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	rec, err := s.saveGroup(r.Context(), g.rec.Key, cloneResource(g.res), g.res, g.rec.Version+1, true)
	if err == nil && rec == nil {
		err = &Error{Status: http.StatusConflict, Detail: "the Group changed while being deleted; try again"}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleGroupList answers GET /Groups: filter (on displayName,
// externalId, members.value...), startIndex, count, sortBy, sortOrder,
// attributes, excludedAttributes, as for Users (list.go).
func (s *Server) handleGroupList(w http.ResponseWriter, r *http.Request) {
	p, err := listParamsFrom(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	s.list(w, r, p, s.groups())
}
