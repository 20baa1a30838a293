package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// POST /composite/tree/{type}: trees of new records (a parent with its
// children under a child relationship name, to five levels) created in one
// transaction. `sf data import tree` and simple-salesforce's tree_create
// use it. salesforce-api.md does not cover this resource; the shapes are
// the REST guide's ("sObject Tree Request Body", "sObject Tree Response
// Body": the success and failure examples below):
//
//	request: {"records":[{"attributes":{"type":"Account","referenceId":"ref1"},
//	          "Name":"Acme","Contacts":{"records":[{"attributes":{"type":"Contact",
//	          "referenceId":"ref2"},"LastName":"Ng"}]}}]}
//	201:     {"hasErrors":false,"results":[{"referenceId":"ref1","id":"001..."},
//	          {"referenceId":"ref2","id":"003..."}]}
//	400:     {"hasErrors":true,"results":[{"referenceId":"ref2","errors":
//	          [{"statusCode":"REQUIRED_FIELD_MISSING","message":"...","fields":["LastName"]}]}]}
//
// A child gets its parent's Id in the lookup field behind the relationship
// (Contact.AccountId for Account.Contacts). Any record error rolls every
// insert back; results then list only the failed records. Records are
// created level by level, so results list the top-level records first.

// Limits of one tree request, from the REST guide.
const (
	maxTreeRecords = 200
	maxTreeDepth   = 5
	maxTreeTypes   = 5
)

// codeTreeInvalid is the errorCode of a malformed tree request, and the
// statusCode of a duplicated referenceId's result. UNCONFIRMED, as are the
// texts.
const codeTreeInvalid = "INVALID_INPUT"

// treeNode is one record of a tree request, ready to insert.
type treeNode struct {
	ref      string
	obj      *sobject
	fields   map[string]any
	parent   *treeNode
	link     *field // the child's lookup field set to the parent's Id
	depth    int
	id       string
	failed   bool
	children []*treeNode
}

type treeResult struct {
	ReferenceID string            `json:"referenceId"`
	ID          string            `json:"id,omitempty"`
	Errors      []recordErrorJSON `json:"errors,omitempty"`
}

// compositeTree serves POST /services/data/vNN.N/composite/tree/{type}.
func (e *Emulator) compositeTree(c *call) {
	var req map[string]any
	if !c.readJSON(&req) {
		return
	}
	e.gate.RLock()
	defer e.gate.RUnlock()
	e.mu.Lock()
	defer e.mu.Unlock()

	obj := e.sobjectLocked(c.r.PathValue("type"))
	if obj == nil {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	levels, dups, msg := e.parseTreeLocked(obj, req["records"])
	if msg != "" {
		c.writeError(http.StatusBadRequest, codeTreeInvalid, msg, nil)
		return
	}
	if len(dups) > 0 {
		// A referenceId used twice fails the request in the results shape,
		// one item per use (REST guide, "sObject Tree Response Body").
		c.writeJSON(http.StatusBadRequest, map[string]any{"hasErrors": true, "results": dups})
		return
	}

	t := e.beginLocked()
	var failed []treeResult
	for _, level := range levels {
		for _, n := range level {
			if n.parent != nil && n.parent.failed {
				n.failed = true // no parent Id to link to; its parent reports the error
				continue
			}
			fields := n.fields
			if n.parent != nil {
				fields[n.link.Name] = n.parent.id
			}
			id, rerr := e.insertLocked(n.obj.Name, fields)
			if rerr != nil {
				n.failed = true
				failed = append(failed, treeResult{ReferenceID: n.ref, Errors: errJSON(rerr)})
				continue
			}
			n.id = id
		}
	}
	if len(failed) > 0 {
		t.rollback()
		c.writeJSON(http.StatusBadRequest, map[string]any{"hasErrors": true, "results": failed})
		return
	}
	t.commit()
	var results []treeResult
	for _, level := range levels {
		for _, n := range level {
			results = append(results, treeResult{ReferenceID: n.ref, ID: n.id})
		}
	}
	c.writeJSON(http.StatusCreated, map[string]any{"hasErrors": false, "results": results})
}

// parseTreeLocked checks a tree request's records and returns its nodes by
// level (top-level records first). msg is non-empty for a malformed request;
// dups, when not empty, holds an error result for every use of a
// referenceId that appears more than once.
func (e *Emulator) parseTreeLocked(top *sobject, records any) (levels [][]*treeNode, dups []treeResult, msg string) {
	list, ok := records.([]any)
	if !ok || len(list) == 0 {
		return nil, nil, "records is required and must hold at least one record."
	}
	p := treeParser{e: e, refs: map[string]int{}, types: map[string]bool{}}
	for i, item := range list {
		n, msg := p.node(item, top, nil, nil, 1, fmt.Sprintf("records[%d]", i))
		if msg != "" {
			return nil, nil, msg
		}
		p.add(n)
	}
	if p.count > maxTreeRecords {
		return nil, nil, fmt.Sprintf("A tree request can create at most %d records; this one holds %d.", maxTreeRecords, p.count)
	}
	if len(p.types) > maxTreeTypes {
		return nil, nil, fmt.Sprintf("A tree request can hold at most %d object types.", maxTreeTypes)
	}
	for _, ref := range p.order {
		for range p.refs[ref] {
			if p.refs[ref] > 1 {
				dups = append(dups, treeResult{ReferenceID: ref, Errors: []recordErrorJSON{{
					StatusCode: codeTreeInvalid, Message: "Duplicate ReferenceId provided in the request.", Fields: []string{}}}})
			}
		}
	}
	return p.levels, dups, ""
}

// treeParser walks a tree request.
type treeParser struct {
	e      *Emulator
	refs   map[string]int // uses of each referenceId
	order  []string       // referenceIds in order of first use
	types  map[string]bool
	count  int
	levels [][]*treeNode
}

// add files n and its descendants under their levels.
func (p *treeParser) add(n *treeNode) {
	for len(p.levels) < n.depth {
		p.levels = append(p.levels, nil)
	}
	p.levels[n.depth-1] = append(p.levels[n.depth-1], n)
	for _, child := range n.children {
		p.add(child)
	}
}

// node parses one record, which must be of type want, and its children.
func (p *treeParser) node(item any, want *sobject, parent *treeNode, link *field, depth int, where string) (*treeNode, string) {
	if depth > maxTreeDepth {
		return nil, fmt.Sprintf("%s: a tree can be at most %d levels deep.", where, maxTreeDepth)
	}
	rec, ok := item.(map[string]any)
	if !ok {
		return nil, where + ": a record must be a JSON object."
	}
	attrs, _ := rec["attributes"].(map[string]any)
	typ, _ := attrs["type"].(string)
	ref, _ := attrs["referenceId"].(string)
	if typ == "" {
		return nil, where + ": attributes.type is required."
	}
	if !strings.EqualFold(typ, want.Name) {
		return nil, fmt.Sprintf("%s: the record's type %s does not match %s.", where, typ, want.Name)
	}
	if ref == "" {
		return nil, where + ": attributes.referenceId is required."
	}
	if !referenceIDRE.MatchString(ref) {
		return nil, fmt.Sprintf("%s: invalid referenceId '%s': it must start with a letter and hold only letters, digits and underscores.", where, ref)
	}
	if p.refs[ref] == 0 {
		p.order = append(p.order, ref)
	}
	p.refs[ref]++
	p.types[want.Name] = true
	p.count++

	n := &treeNode{ref: ref, obj: want, fields: map[string]any{}, parent: parent, link: link, depth: depth}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys) // children of several relationships in a stable order
	for _, k := range keys {
		v := rec[k]
		if k == "attributes" {
			continue
		}
		nested, isNested := v.(map[string]any)
		if !isNested || want.field(k) != nil {
			n.fields[k] = v
			continue
		}
		child, childLink := p.e.childRelationshipLocked(want, k)
		if child == nil {
			return nil, fmt.Sprintf("%s: %s is neither a field nor a child relationship of %s.", where, k, want.Name)
		}
		kids, ok := nested["records"].([]any)
		if !ok {
			return nil, fmt.Sprintf("%s.%s: records is required.", where, k)
		}
		for i, kid := range kids {
			cn, msg := p.node(kid, child, n, childLink, depth+1, fmt.Sprintf("%s.%s.records[%d]", where, k, i))
			if msg != "" {
				return nil, msg
			}
			n.children = append(n.children, cn)
		}
	}
	return n, ""
}

// childRelationshipLocked finds the child object and lookup field behind
// the child relationship name of parent (Contacts on Account gives Contact
// and AccountId).
func (e *Emulator) childRelationshipLocked(parent *sobject, name string) (*sobject, *field) {
	for _, child := range e.org.objects {
		for _, f := range child.Fields {
			if f.Type != "reference" || !refAllows(f, parent.Name) {
				continue
			}
			if rel := childRelationName(child, f, parent.Name); rel != "" && strings.EqualFold(rel, name) {
				return child, f
			}
		}
	}
	return nil, nil
}
