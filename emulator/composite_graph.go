package emulator

import (
	"fmt"
	"net/http"
)

// /composite/graph (salesforce-api.md §5.5, API 50.0 and later): several
// graphs, each a list of /composite subrequests (same shape, same
// @{referenceId.path} references) run as its own transaction. A graph that
// fails is rolled back whole, its failing node answering its own error and
// every other node PROCESSING_HALTED, and the next graph runs regardless.
// The answer is always 200:
//
//	{"graphs":[{"graphId":"1","graphResponse":{"compositeResponse":[...]},"isSuccessful":true}]}

// Limits of one graph request (§5.5).
const (
	maxGraphs     = 75
	maxGraphNodes = 500 // per graph and per request
	// maxFailedGraphs is how many graphs may fail before the rest are not run.
	maxFailedGraphs = 14
)

type graphRequest struct {
	GraphID          string                `json:"graphId"`
	CompositeRequest []compositeSubrequest `json:"compositeRequest"`
}

type graphResult struct {
	GraphID       string         `json:"graphId"`
	GraphResponse map[string]any `json:"graphResponse"`
	IsSuccessful  bool           `json:"isSuccessful"`
}

// compositeGraph serves POST /services/data/vNN.N/composite/graph.
func (e *Emulator) compositeGraph(c *call) {
	if versionNumber(c.version) < 50 {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	var req struct {
		Graphs []graphRequest `json:"graphs"`
	}
	if !c.readJSON(&req) {
		return
	}
	if msg := checkGraphs(req.Graphs); msg != "" {
		c.writeError(http.StatusBadRequest, "INVALID_INPUT", msg, nil) // UNCONFIRMED: errorCode of a malformed graph request
		return
	}
	// Every graph is all-or-none: keep other callers' writes out, as an
	// all-or-none /composite call does.
	e.gate.Lock()
	defer e.gate.Unlock()
	out := make([]graphResult, len(req.Graphs))
	failed := 0
	for i, g := range req.Graphs {
		var resp []compositeSubresponse
		ok := false
		if failed > maxFailedGraphs {
			resp = make([]compositeSubresponse, len(g.CompositeRequest))
			for j, sr := range g.CompositeRequest {
				resp[j] = haltedResponse(sr.ReferenceID, msgProcessingHalted)
			}
		} else {
			resp, ok = e.runCompositeGated(c, g.CompositeRequest, true)
		}
		if !ok {
			failed++
		}
		out[i] = graphResult{GraphID: g.GraphID, GraphResponse: map[string]any{"compositeResponse": resp}, IsSuccessful: ok}
	}
	c.writeJSON(http.StatusOK, map[string]any{"graphs": out})
}

// checkGraphs validates a graph request; "" when well formed.
func checkGraphs(graphs []graphRequest) string {
	if len(graphs) == 0 {
		return "graphs is required and must hold at least one graph."
	}
	if len(graphs) > maxGraphs {
		return fmt.Sprintf("A graph request can hold at most %d graphs.", maxGraphs)
	}
	ids := map[string]bool{}
	nodes := 0
	for _, g := range graphs {
		if g.GraphID == "" {
			return "graphId is required for every graph."
		}
		if ids[g.GraphID] {
			return "Duplicate graphId provided in the request: " + g.GraphID
		}
		ids[g.GraphID] = true
		if len(g.CompositeRequest) > maxGraphNodes {
			return fmt.Sprintf("Graph %s: a graph can hold at most %d nodes.", g.GraphID, maxGraphNodes)
		}
		nodes += len(g.CompositeRequest)
		if msg := checkSubrequests(g.CompositeRequest, 0); msg != "" {
			return "Graph " + g.GraphID + ": " + msg
		}
	}
	if nodes > maxGraphNodes {
		return fmt.Sprintf("A graph request can hold at most %d nodes in all.", maxGraphNodes)
	}
	return ""
}
