package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// /composite/batch (salesforce-api.md §5.6): up to 25 independent
// subrequests in one HTTP call. Unlike /composite, each subrequest commits
// on its own, none can refer to another, and each counts against the daily
// API allowance. A subrequest names its resource relative to
// /services/data/ ("v65.0/sobjects/Lead/00Q...") and carries its body in
// richInput. The answer is always 200:
//
//	{"hasErrors":true,"results":[{"statusCode":204,"result":null},
//	 {"statusCode":404,"result":[{"errorCode":"NOT_FOUND","message":"..."}]}]}
//
// With haltOnError, the subrequests after the first failure are not run and
// answer 412 BATCH_PROCESSING_HALTED.

const maxBatchSubrequests = 25

// Texts of the batch errors. The 412 and BATCH_PROCESSING_HALTED of a
// halted subrequest are the REST guide's ("Batch Request Body"), as is the
// 400 for a malformed batch before any subrequest runs. UNCONFIRMED: the
// wording of both, and the errorCode of a malformed batch.
const (
	msgBatchHalted       = "Batch processing halted per request"
	codeBatchInvalid     = "INVALID_BATCH_REQUEST"
	msgBatchTooMany      = "A batch request cannot have more than 25 subrequests."
	msgBatchNoSubrequest = "batchRequests is required and must hold at least one subrequest."
)

type batchSubrequest struct {
	Method    string `json:"method"`
	URL       string `json:"url"`
	RichInput any    `json:"richInput"`
}

type batchBody struct {
	HaltOnError   bool              `json:"haltOnError"`
	BatchRequests []batchSubrequest `json:"batchRequests"`
}

type batchResult struct {
	StatusCode int             `json:"statusCode"`
	Result     json.RawMessage `json:"result"`
}

// compositeBatch serves POST /services/data/vNN.N/composite/batch.
func (e *Emulator) compositeBatch(c *call) {
	var req batchBody
	if !c.readJSON(&req) {
		return
	}
	if msg := checkBatch(req.BatchRequests); msg != "" {
		c.writeError(http.StatusBadRequest, codeBatchInvalid, msg, nil)
		return
	}
	e.gate.RLock()
	defer e.gate.RUnlock()

	results := make([]batchResult, len(req.BatchRequests))
	hasErrors, halted := false, false
	for i, sr := range req.BatchRequests {
		switch {
		case halted:
			results[i] = batchError(http.StatusPreconditionFailed, "BATCH_PROCESSING_HALTED", msgBatchHalted)
		case i > 0 && !e.spendCall(c):
			// The batch call itself paid for its first subrequest.
			results[i] = batchError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		default:
			results[i] = e.runBatchSubrequest(c, sr)
		}
		if results[i].StatusCode >= 400 {
			hasErrors = true
			halted = halted || req.HaltOnError
		}
	}
	c.writeJSON(http.StatusOK, map[string]any{"hasErrors": hasErrors, "results": results})
}

// checkBatch validates the subrequest list; "" when well formed.
func checkBatch(subs []batchSubrequest) string {
	if len(subs) == 0 {
		return msgBatchNoSubrequest
	}
	if len(subs) > maxBatchSubrequests {
		return msgBatchTooMany
	}
	for i, sr := range subs {
		switch strings.ToUpper(sr.Method) {
		case "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD":
		default:
			return fmt.Sprintf("Invalid method '%s' for subrequest %d.", sr.Method, i)
		}
		p := batchURL(sr.URL)
		if !strings.HasPrefix(p, "/services/data/v") {
			return fmt.Sprintf("The url '%s' of subrequest %d must start with the API version, e.g. v65.0/sobjects.", sr.URL, i)
		}
		rest := p[len("/services/data/v"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 && strings.HasPrefix(rest[j:], "/composite") {
			return fmt.Sprintf("Subrequest %d: composite resources cannot be nested in a batch request.", i)
		}
	}
	return ""
}

// batchURL turns a batch subrequest's url ("v65.0/sobjects/Lead", also
// accepted with a leading slash or as a full /services/data/... path) into
// the path it names.
func batchURL(u string) string {
	if strings.HasPrefix(u, "/services/data/") {
		return u
	}
	return "/services/data/" + strings.TrimPrefix(u, "/")
}

// runBatchSubrequest serves one subrequest in process.
func (e *Emulator) runBatchSubrequest(c *call, sr batchSubrequest) batchResult {
	var body []byte
	if sr.RichInput != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(sr.RichInput)
		body = buf.Bytes()
	}
	rec := e.serveSubrequest(c, strings.ToUpper(sr.Method), batchURL(sr.URL), body, nil)
	return batchResult{StatusCode: rec.status(), Result: rec.jsonBody()}
}

// batchError is a subrequest's error result.
func batchError(status int, code, msg string) batchResult {
	b, _ := json.Marshal([]APIError{{Message: msg, ErrorCode: code}})
	return batchResult{StatusCode: status, Result: b}
}
