package scim

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
)

// listParams are a list request's parameters, from the query of
// GET /Users or the body of POST /.search (RFC 7644 §3.4.3).
type listParams struct {
	Filter              string   `json:"filter"`
	StartIndex          *int     `json:"startIndex"`
	Count               *int     `json:"count"`
	SortBy              string   `json:"sortBy"`
	SortOrder           string   `json:"sortOrder"`
	Attributes          []string `json:"attributes"`
	ExcludedAttributes  []string `json:"excludedAttributes"`
	Schemas             []string `json:"schemas"`
	start, count        int
	descending, sorting bool
}

const schemaSearch = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// kind is what listing needs of a resource type: Users and Groups share
// the filters, paging, sorting and projection.
type kind struct {
	// source holds the resources (each record's field "scim").
	source string
	// present renders one resource for an answer.
	present func(r *http.Request, rec *forcesync.SourceRecord, res map[string]any) map[string]any
	// lookups: an equality filter on userName or externalId is answered
	// by the store's lookup (Users' flat fields) instead of a scan.
	lookups bool
}

func (s *Server) users() kind {
	return kind{source: s.cfg.Source, lookups: true,
		present: func(r *http.Request, rec *forcesync.SourceRecord, res map[string]any) map[string]any {
			return present(r, &user{rec: rec, res: res})
		}}
}

func (s *Server) groups() kind {
	return kind{source: s.groupSource(),
		present: func(r *http.Request, rec *forcesync.SourceRecord, res map[string]any) map[string]any {
			return presentGroup(r, &group{rec: rec, res: res})
		}}
}

// listParamsFrom reads a list request from a query (GET /Users, /Groups).
func listParamsFrom(q url.Values) (listParams, error) {
	p := listParams{Filter: q.Get("filter"), SortBy: q.Get("sortBy"), SortOrder: q.Get("sortOrder"),
		Attributes: splitList(q.Get("attributes")), ExcludedAttributes: splitList(q.Get("excludedAttributes"))}
	return p, p.pageFrom(q)
}

// scan reads the resources of q.Source that f matches (every one for a nil or empty
// filter), page by page from q, calling fn with each. An unreadable record
// is matched by its stand-in (see resourceOf).
func (s *Server) scan(ctx context.Context, q forcesync.SourceQuery, f *Filter, fn func(rec forcesync.SourceRecord)) error {
	q.Limit = scanPage
	for {
		recs, err := s.cfg.Store.SourceRecords(ctx, q)
		if err != nil {
			return err
		}
		for i := range recs {
			res := s.resourceOf(ctx, &recs[i])
			if res != nil && (f == nil || f.expr == nil || f.Match(res)) {
				fn(recs[i])
			}
		}
		if len(recs) < q.Limit {
			return nil
		}
		q.Offset += len(recs)
	}
}

// check validates p and fills its defaults.
func (p *listParams) check() error {
	p.start, p.count = 1, 100
	if p.StartIndex != nil {
		p.start = max(*p.StartIndex, 1) // RFC 7644 §3.4.2.4: below 1 is read as 1
	}
	if p.Count != nil {
		p.count = *p.Count
	}
	p.count = min(max(p.count, 0), maxResults)
	switch strings.ToLower(p.SortOrder) {
	case "", "ascending":
	case "descending":
		p.descending = true
	default:
		return errorf("invalidValue", "sortOrder %q is not ascending or descending", p.SortOrder)
	}
	p.sorting = p.SortBy != ""
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	p, err := listParamsFrom(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	s.list(w, r, p, s.users())
}

// pageFrom reads startIndex and count from a query.
func (p *listParams) pageFrom(q url.Values) error {
	for name, dst := range map[string]**int{"startIndex": &p.StartIndex, "count": &p.Count} {
		if v := q.Get(name); v != "" {
			n, err := intParam(v, 0)
			if err != nil {
				return errorf("invalidValue", "%s: %v", name, err)
			}
			*dst = &n
		}
	}
	return nil
}

// handleSearch answers POST /.search: a list request in a body, so a long
// filter stays out of URLs and logs.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	var p listParams
	if err := readJSON(r, &p); err != nil {
		s.fail(w, err)
		return
	}
	ok := false
	for _, sc := range p.Schemas {
		ok = ok || strings.EqualFold(sc, schemaSearch)
	}
	if !ok {
		s.fail(w, errorf("invalidValue", "schemas must be [%q]", schemaSearch))
		return
	}
	s.list(w, r, p, s.users())
}

// list answers a list request for resources of kind k.
func (s *Server) list(w http.ResponseWriter, r *http.Request, p listParams, k kind) {
	if err := p.check(); err != nil {
		s.fail(w, err)
		return
	}
	ctx := r.Context()
	var (
		page  []forcesync.SourceRecord
		total int
		err   error
	)
	switch {
	case p.Filter != "" || p.sorting:
		f := &Filter{}
		if p.Filter != "" {
			if f, err = ParseFilter(p.Filter); err != nil {
				s.fail(w, err)
				return
			}
		}
		if p.sorting {
			page, total, err = s.sorted(ctx, k, f, p)
		} else {
			page, total, err = s.filtered(ctx, k, f, p.start, p.count)
		}
	default:
		sq := forcesync.SourceQuery{Source: k.source, Offset: p.start - 1, Limit: p.count}
		if total, err = s.cfg.Store.CountSourceRecords(ctx, sq); err == nil && p.count > 0 {
			page, err = s.cfg.Store.SourceRecords(ctx, sq)
		}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	resources := make([]any, 0, len(page))
	for i := range page {
		res := s.resourceOf(ctx, &page[i])
		if res == nil {
			continue
		}
		resources = append(resources, projectWith(k.present(r, &page[i], res), p.Attributes, p.ExcludedAttributes))
	}
	s.write(w, http.StatusOK, map[string]any{
		"schemas":      []string{schemaList},
		"totalResults": total,
		"startIndex":   p.start,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	})
}

// sorted returns one page of the resources f matches (every one for an
// empty filter), ordered by p.SortBy: strings ignoring case, resources
// without the attribute last (RFC 7644 §3.4.2.3), then by id.
func (s *Server) sorted(ctx context.Context, k kind, f *Filter, p listParams) ([]forcesync.SourceRecord, int, error) {
	var all []forcesync.SourceRecord
	err := s.scan(ctx, forcesync.SourceQuery{Source: k.source}, f, func(rec forcesync.SourceRecord) { all = append(all, rec) })
	if err != nil {
		return nil, 0, err
	}
	pp := parseProjectPath(p.SortBy)
	key := func(rec forcesync.SourceRecord) (string, bool) {
		res, _ := rec.Fields["scim"].(map[string]any)
		if pp.ext != "" {
			ek, _ := attrKey(res, pp.ext)
			res, _ = res[ek].(map[string]any)
		}
		k, ok := attrKey(res, pp.attr)
		if !ok {
			return "", false
		}
		v := res[k]
		if pp.sub != "" {
			switch x := v.(type) {
			case map[string]any:
				sk, _ := attrKey(x, pp.sub)
				v = x[sk]
			case []any:
				v = nil
				for _, e := range x { // the primary value, else the first
					if m, ok := e.(map[string]any); ok {
						sk, _ := attrKey(m, pp.sub)
						if v == nil || m["primary"] == true {
							v = m[sk]
						}
					}
				}
			}
		}
		if v == nil {
			return "", false
		}
		return strings.ToLower(fmt.Sprint(v)), true
	}
	slices.SortStableFunc(all, func(a, b forcesync.SourceRecord) int {
		ka, oka := key(a)
		kb, okb := key(b)
		switch {
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		case ka != kb:
			if p.descending {
				return cmp.Compare(kb, ka)
			}
			return cmp.Compare(ka, kb)
		}
		return cmp.Compare(a.Key, b.Key)
	})
	total := len(all)
	lo := min(p.start-1, total)
	return all[lo:min(lo+p.count, total)], total, nil
}

// resourceOf returns the SCIM resource a listed record holds (its field
// "scim"; nil for a record that did not come through SCIM). A record whose
// stored fields cannot be read back (rec.Unreadable) gets a stand-in that
// keeps only what identifies it: schemas, id, externalId, userName (a
// User), displayName (a Group) and meta, read from the stored fields as
// far as they decode; rec.Fields then holds it, so that sorting and a
// second call see it too. The stand-in keeps the resource in lists: an
// identity provider that no longer saw it would take it for deleted (and
// unassign or create it again), and one given a resource with attributes
// made up would write them back. A filter on any other attribute does not
// match it, and a read of it by id is the error unreadable makes.
func (s *Server) resourceOf(ctx context.Context, rec *forcesync.SourceRecord) map[string]any {
	res, _ := rec.Fields["scim"].(map[string]any)
	if res != nil || rec.Unreadable == nil {
		return res
	}
	s.cfg.Logger.Warn("scim: a stored resource cannot be read back; lists show only its id, names and meta until it is sent again",
		"event", "scim.unreadable", "source", rec.Source, "id", rec.Key, "fields", strings.Join(rec.Unreadable.Fields, ","))
	full, _ := s.cfg.Store.SourceRecord(ctx, rec.Source, rec.Key) // with the fields as far as they decode
	var stored map[string]any
	if full != nil {
		stored, _ = full.Fields["scim"].(map[string]any)
	}
	if stored == nil {
		return nil // not even its identity can be read
	}
	stand := map[string]any{"id": rec.Key}
	for _, name := range []string{"schemas", "externalId", "userName", "displayName", "meta"} {
		if k, ok := attrKey(stored, name); ok {
			stand[k] = stored[k]
		}
	}
	rec.Fields = map[string]any{"scim": stand}
	return stand
}
