package scim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
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
	// dropped names what salvage left out of res, for a Group whose
	// stored fields cannot be read back (rec.Unreadable set).
	dropped []string
}

// loadGroup reads the Group id; deleted or unknown is a 404, and one whose
// stored fields cannot be read back is the error unreadable makes.
func (s *Server) loadGroup(ctx context.Context, id string) (*group, error) {
	g, err := s.readGroup(ctx, id)
	if err == nil && g.rec.Unreadable != nil {
		err = s.unreadableOr(g.rec.Unreadable, "Group", id)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// readGroup is loadGroup that answers a Group whose stored fields cannot
// be read back instead of refusing it: its rec.Unreadable is set, and its
// res is the Group as far as it can be read (see salvage), which a change
// of it writes back. Its members are ids (strings), so they can be read:
// a change knows which Users to rewrite. When not even that decodes,
// readGroup refuses it as loadGroup does.
func (s *Server) readGroup(ctx context.Context, id string) (*group, error) {
	rec, err := s.cfg.Store.SourceRecord(ctx, s.groupSource(), id)
	if forcesync.ErrorCode(err) == forcesync.ENotFound || (rec != nil && rec.Deleted) {
		return nil, &Error{Status: http.StatusNotFound, Detail: "Group " + id + " not found"}
	}
	re, ok := errors.AsType[*forcesync.RecordError](err)
	if ok && re.Code == forcesync.CodeUnreadableRecord && rec != nil && rec.Fields != nil {
		rec.Unreadable, err = re, nil
	}
	if err != nil {
		return nil, s.unreadableOr(err, "Group", id)
	}
	res, _ := rec.Fields["scim"].(map[string]any)
	if res == nil {
		return nil, &Error{Status: http.StatusNotFound, Detail: "Group " + id + " not found"}
	}
	g := &group{rec: rec, res: res}
	if rec.Unreadable != nil {
		g.res, g.dropped = salvage(res)
	}
	return g, nil
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
	// members must be a list of {"value": id}: anything else (a string,
	// a member without its value) is refused rather than dropped unsaid.
	var ids []string
	if k, ok := attrKey(res, "members"); ok {
		list, err := valueIDs(res[k])
		if err != nil {
			return err
		}
		for _, id := range list {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		delete(res, k)
	}
	var members []any
	for _, id := range ids {
		members = append(members, map[string]any{"value": id, "type": "User"})
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
// when new). A member whose User cannot be read back is not added or
// removed (see leaveUnreadable): refused then says which, and the rest is
// saved; a new, renamed or deleted Group with such a member is refused
// whole (err), before anything is written.
func (s *Server) saveGroup(ctx context.Context, id string, res, old map[string]any, version int64, del bool) (rec *forcesync.SourceRecord, refused, err error) {
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	created := now
	if old != nil {
		if c := createdOf(old); c != "" {
			created = c
		}
	}
	touched, refused, err := s.leaveUnreadable(ctx, id, res, old, del)
	if err != nil {
		return nil, nil, err
	}
	res["id"] = id
	res["meta"] = map[string]any{"resourceType": "Group", "created": created, "lastModified": now}
	body, err := json.Marshal(map[string]any{"displayName": groupName(res), "scim": res})
	if err != nil {
		return nil, nil, errorf("invalidValue", "the Group cannot be stored: %v", err)
	}
	op := forcesync.OpUpsert
	if del {
		op = forcesync.OpDelete
	}
	ch, err := checked("Group", forcesync.Change{Source: s.groupSource(), Key: id, Op: op, Version: version, FieldsJSON: body})
	if err != nil {
		return nil, nil, err
	}
	results, err := s.cfg.Store.Accept(ctx, nil, []forcesync.Change{ch})
	if err != nil {
		return nil, nil, err
	}
	if results[0].Ignored {
		return nil, nil, nil
	}
	for uid, m := range touched {
		if err := s.setMembership(ctx, m.u, uid, id, groupName(res), m.in); err != nil {
			return nil, nil, err
		}
	}
	return &forcesync.SourceRecord{Source: s.groupSource(), Key: id, Version: results[0].Version}, refused, nil
}

// membership is a User whose groups a Group change rewrites: u as read
// before the change, and whether it is a member after (in).
type membership struct {
	u  *user
	in bool
}

// leaveUnreadable returns the members whose view of the Group id changes
// from old (nil: new) to res (del: deleted) — added, removed, or all of
// them when it is renamed or deleted — each as read (once: setMembership
// writes from that) with whether it is a member after. Unknown Users are
// left out (an identity provider may list members it never provisioned
// here). A member whose User cannot be read back cannot have its groups
// attribute rewritten (it is in the stored fields, next to what cannot be
// read), so it is left as it was: taken out of res's members if it was
// being added, put back if it was being removed, and named in refused. A
// new, renamed or deleted Group cannot leave such a member as it was, so
// it is refused whole (err): it must wait for the User's repair.
func (s *Server) leaveUnreadable(ctx context.Context, id string, res, old map[string]any, del bool) (touched map[string]membership, refused, err error) {
	before, after := []string{}, memberIDs(res)
	if old != nil {
		before = memberIDs(old)
	}
	if del {
		after = nil
	}
	renamed := old != nil && groupName(old) != groupName(res)
	changes := map[string]bool{}
	for _, u := range before {
		if del || renamed || !slices.Contains(after, u) {
			changes[u] = false
		}
	}
	for _, u := range after {
		if renamed || !slices.Contains(before, u) {
			changes[u] = true
		}
	}
	touched = map[string]membership{}
	var added, removed []string
	for uid, member := range changes {
		u, err := s.read(ctx, uid)
		if se, ok := errors.AsType[*Error](err); ok && se.Status == http.StatusNotFound {
			continue // unknown: nothing to rewrite
		}
		if err != nil {
			return nil, nil, err
		}
		if u.rec.Unreadable == nil {
			touched[uid] = membership{u: u, in: member}
			continue
		}
		s.cfg.Logger.Warn("scim: a Group change cannot rewrite a member whose stored User cannot be read back; send the User again to repair it",
			"event", "scim.unreadable", "source", s.cfg.Source, "group", id, "id", uid, "fields", strings.Join(u.rec.Unreadable.Fields, ","))
		switch {
		case old == nil:
			return nil, nil, unreadableMember("created with", uid)
		case del:
			return nil, nil, unreadableMember("deleted while it has", uid)
		case renamed:
			return nil, nil, unreadableMember("renamed while it has", uid)
		case member:
			added = append(added, uid)
		default:
			removed = append(removed, uid)
		}
	}
	if added == nil && removed == nil {
		return touched, nil, nil
	}
	slices.Sort(added)
	slices.Sort(removed)
	members, _ := res["members"].([]any)
	members = slices.DeleteFunc(members, func(m any) bool {
		mm, _ := m.(map[string]any)
		return slices.Contains(added, fmt.Sprint(mm["value"]))
	})
	for _, uid := range removed {
		members = append(members, map[string]any{"value": uid, "type": "User"})
	}
	delete(res, "members")
	if len(members) > 0 {
		res["members"] = members
	}
	return touched, unreadableMembers(id, added, removed), nil
}

// setMembership writes User uid's groups attribute: in Group gid (named
// name) or not. u is the User as the Group change read it; when another
// request wrote it since, it is read again, and skipped if it is gone by
// then.
func (s *Server) setMembership(ctx context.Context, u *user, uid, gid, name string, member bool) error {
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			var err error
			if u, err = s.load(ctx, uid); err != nil {
				var se *Error
				if errorsAs(err, &se) && se.Status == http.StatusNotFound {
					return nil
				}
				return err
			}
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

// regroup sets the groups attribute of u, a User whose stored fields
// cannot be read back, from the Groups that list it as a member: they
// decide it, and its stored copy cannot be trusted. A Group that cannot
// be read back itself is matched by its members as far as they can be
// read (readGroup), not by its listed stand-in, which has none.
func (s *Server) regroup(ctx context.Context, u *user) error {
	f, err := ParseFilter("members.value eq " + strconv.Quote(u.rec.Key))
	if err != nil {
		return err
	}
	var groups []any
	var failed error
	err = s.scan(ctx, forcesync.SourceQuery{Source: s.groupSource()}, nil, func(rec forcesync.SourceRecord) {
		res, _ := rec.Fields["scim"].(map[string]any)
		if rec.Unreadable != nil {
			g, err := s.readGroup(ctx, rec.Key)
			if se, ok := errors.AsType[*Error](err); ok && se.Status == http.StatusNotFound {
				return // deleted meanwhile
			}
			if err != nil {
				failed = cmp.Or(failed, err)
				return
			}
			res = g.res
		}
		if f.Match(res) {
			groups = append(groups, map[string]any{"value": rec.Key, "display": groupName(res), "type": "direct"})
		}
	})
	if err = cmp.Or(err, failed); err != nil {
		return err
	}
	delete(u.res, "groups")
	if groups != nil {
		u.res["groups"] = groups
	}
	return nil
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
	rec, _, err := s.saveGroup(r.Context(), id, res, nil, 0, false) // a new Group refuses an unreadable member whole
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

// updateGroup replaces the Group by what change makes of a copy of it. A
// Group whose stored fields cannot be read back is changed as far as it
// can be read (see readGroup), and so repaired: a PUT needs nothing of
// it, and a PATCH only its displayName and members. A PATCH that keeps a
// displayName that cannot be read is the error unreadablePatchError
// makes.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, change func(old map[string]any) (map[string]any, error)) {
	id := r.PathValue("id")
	for attempt := 0; attempt < 5; attempt++ {
		g, err := s.readGroup(r.Context(), id)
		if err == nil {
			err = precondition(r, "Group", g.rec.Version)
		}
		var res map[string]any
		if err == nil {
			res, err = change(cloneResource(g.res))
		}
		if err == nil && r.Method == http.MethodPatch && g.rec.Unreadable != nil && droppedAttr(g.dropped, "displayName") && strings.TrimSpace(groupName(res)) == "" {
			s.cfg.Logger.Warn("scim: a PATCH keeps the displayName of a stored Group, which cannot be read back; a PUT of the Group repairs it", "event", "scim.unreadable",
				"source", s.cfg.Source, "group", id, "fields", strings.Join(g.rec.Unreadable.Fields, ","))
			err = unreadablePatchError("Group", id, "keeps its displayName, which is what cannot be read",
				"a PATCH that also sets displayName, or a PUT of the whole Group, is accepted and repairs it")
		}
		if err == nil {
			err = cleanGroup(res)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		rec, refused, err := s.saveGroup(r.Context(), id, res, g.res, g.rec.Version+1, false)
		if err != nil {
			s.fail(w, err)
			return
		}
		if rec == nil {
			continue
		}
		if g.rec.Unreadable != nil {
			how := "replaced"
			if r.Method == http.MethodPatch {
				how = "changed by a PATCH"
			}
			s.repaired(how, "Group", id, g.rec.Unreadable, g.dropped)
		}
		w.Header().Set("ETag", etag(rec.Version))
		if refused != nil {
			s.fail(w, refused) // saved but for the members named
			return
		}
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

// handleGroupDelete deletes the Group and takes it out of its members'
// groups. One whose stored fields cannot be read back is deleted too: its
// members can be read (see readGroup).
func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	g, err := s.readGroup(r.Context(), r.PathValue("id"))
	if err == nil {
		err = precondition(r, "Group", g.rec.Version)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	rec, _, err := s.saveGroup(r.Context(), g.rec.Key, cloneResource(g.res), g.res, g.rec.Version+1, true) // a delete refuses an unreadable member whole
	if err == nil && rec == nil {
		err = &Error{Status: http.StatusConflict, Detail: "the Group changed while being deleted; try again"}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if g.rec.Unreadable != nil {
		s.repaired("deleted", "Group", g.rec.Key, g.rec.Unreadable, g.dropped)
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
