package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"
)

// Bulk API 1.0 (/services/async/{version}/...): jobs, batches of CSV or
// JSON records (or a SOQL query), batch results and query results, the
// subset loaders (Data Loader style tools, simple-salesforce's bulk,
// jsforce's bulk, Java clients) use. Authentication is the X-SFDC-Session
// header holding a session id (any access token; a Bearer header works
// too). Requests and answers are XML, or JSON when the request (or the
// job) is JSON. XML record batches are not served: such a job is refused
// at creation with a message saying so.
//
// Batches are processed asynchronously by the Bulk 2.0 machinery (the same
// record rules, pacing, concurrency cap), each batch on its own.

const asyncNS = "http://www.force.com/2009/06/asyncapi/dataload"

// Batch states.
const (
	batchQueued       = "Queued"
	batchInProgress   = "InProgress"
	batchCompleted    = "Completed"
	batchFailed       = "Failed"
	batchNotProcessed = "NotProcessed"
)

type v1Job struct {
	id, operation, object, extField string
	contentType                     string // CSV or JSON
	apiVersion                      string
	createdBy                       string
	created                         time.Time
	// Guarded by v1Store.mu.
	state    string // Open, Closed, Aborted
	modstamp time.Time
	batches  []*v1Batch
}

type v1Batch struct {
	id      string
	job     *v1Job
	created time.Time
	request []byte
	// Guarded by v1Store.mu.
	state        string
	stateMessage string
	modstamp     time.Time
	processed    int
	failed       int
	totalMS      int64
	results      []v1Result
	resultID     string
	result       []byte // query result (CSV or JSON)
	// run is the Bulk 2.0 job that processes the batch (its state is set
	// to Aborted when the v1 job is).
	run *bulkJob
}

type v1Result struct {
	id      string
	success bool
	created bool
	err     string // "CODE:message:fields --"
}

// v1Store is one emulator's Bulk 1.0 jobs, kept beside it (keyed weakly)
// so the Emulator struct stays as it is.
type v1Store struct {
	mu      sync.Mutex
	jobs    map[string]*v1Job
	batches map[string]*v1Batch
}

var v1Stores sync.Map // weak.Pointer[Emulator] -> *v1Store

func (e *Emulator) bulkV1() *v1Store {
	key := weak.Make(e)
	if s, ok := v1Stores.Load(key); ok {
		return s.(*v1Store)
	}
	s, loaded := v1Stores.LoadOrStore(key, &v1Store{jobs: map[string]*v1Job{}, batches: map[string]*v1Batch{}})
	if !loaded {
		runtime.AddCleanup(e, func(k weak.Pointer[Emulator]) { v1Stores.Delete(k) }, key)
	}
	return s.(*v1Store)
}

// resetBulkV1 forgets every Bulk 1.0 job (the admin reset).
func (e *Emulator) resetBulkV1() {
	s := e.bulkV1()
	s.mu.Lock()
	for _, b := range s.batches {
		if b.run != nil {
			e.bulk.mu.Lock()
			b.run.state = jobAborted
			e.bulk.mu.Unlock()
		}
	}
	s.jobs, s.batches = map[string]*v1Job{}, map[string]*v1Batch{}
	s.mu.Unlock()
}

// --- wire ---------------------------------------------------------------

// v1Call is one Bulk 1.0 request.
type v1Call struct {
	*call
	json bool // answer in JSON
}

var asyncVersionRE = regexp.MustCompile(`^(\d{2})\.0$`)

func v1Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// fail answers a Bulk 1.0 error: <error><exceptionCode>…, or its JSON
// twin. Status 400 for every code, as the Bulk API 1.0 guide lists them,
// InvalidSessionId included: jsforce (src/api/bulk.ts, isSessionExpired)
// refreshes its token only on a 400 carrying that code, and a recorded
// answer in singer-io/tap-salesforce's tests is 400 "Invalid session id".
func (v *v1Call) fail(status int, code, msg string) {
	if v.json {
		v.w.Header().Set("Content-Type", "application/json")
		v.w.WriteHeader(status)
		_ = json.NewEncoder(v.w).Encode(map[string]string{"exceptionCode": code, "exceptionMessage": msg})
		return
	}
	v.w.Header().Set("Content-Type", "application/xml")
	v.w.WriteHeader(status)
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	fmt.Fprintf(v.w, `<?xml version="1.0" encoding="UTF-8"?><error xmlns="%s"><exceptionCode>%s</exceptionCode><exceptionMessage>%s</exceptionMessage></error>`, asyncNS, code, b.String())
}

// kv is an ordered list of fields for XML and JSON answers.
type kv struct {
	k string
	v any
}

// write answers one object (root element name for XML) in the call's format.
func (v *v1Call) write(status int, root string, fields []kv) {
	if v.json {
		v.w.Header().Set("Content-Type", "application/json")
		v.w.WriteHeader(status)
		_, _ = v.w.Write(jsonObject(fields))
		return
	}
	v.w.Header().Set("Content-Type", "application/xml")
	v.w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	writeXMLObject(&b, root, fields, true)
	_, _ = io.WriteString(v.w, b.String())
}

func jsonObject(fields []kv) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		switch x := f.v.(type) {
		case []kv:
			b.Write(jsonObject(x))
		case [][]kv:
			b.WriteByte('[')
			for j, o := range x {
				if j > 0 {
					b.WriteByte(',')
				}
				b.Write(jsonObject(o))
			}
			b.WriteByte(']')
		default:
			val, _ := json.Marshal(x)
			b.Write(val)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeXMLObject(b *strings.Builder, root string, fields []kv, ns bool) {
	if ns {
		fmt.Fprintf(b, `<%s xmlns="%s">`, root, asyncNS)
	} else {
		b.WriteString("<" + root + ">")
	}
	for _, f := range fields {
		switch x := f.v.(type) {
		case [][]kv:
			for _, o := range x {
				writeXMLObject(b, f.k, o, false)
			}
		case json.Number:
			b.WriteString("<" + f.k + ">" + x.String() + "</" + f.k + ">")
		default:
			b.WriteString("<" + f.k + ">")
			_ = xml.EscapeText(b, []byte(fmt.Sprint(x)))
			b.WriteString("</" + f.k + ">")
		}
	}
	b.WriteString("</" + root + ">")
}

// readFields reads a flat XML or JSON object body (jobInfo) into a map.
func readFields(body []byte, isJSON bool) (map[string]string, error) {
	out := map[string]string{}
	if isJSON {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
		return out, nil
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	var name string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				name = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				out[name] = strings.TrimSpace(text.String())
			}
			depth--
		}
	}
	if depth != 0 || len(out) == 0 {
		return nil, errors.New("not a jobInfo document")
	}
	return out, nil
}

// --- routes -------------------------------------------------------------

func (e *Emulator) bulkV1Routes() {
	const p = "/services/async/{apiVersion}/job"
	h := func(pattern string, methods map[string]handlerFunc) {
		rt := &route{kind: KindBulk, methods: methods, badMethod: e.v1(v1MethodNotAllowed)}
		e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { e.serveRoute(rt, w, r) })
	}
	h(p, map[string]handlerFunc{"POST": e.v1(e.v1CreateJob)})
	h(p+"/{job}", map[string]handlerFunc{"GET": e.v1(e.v1GetJob), "POST": e.v1(e.v1UpdateJob)})
	h(p+"/{job}/batch", map[string]handlerFunc{"GET": e.v1(e.v1ListBatches), "POST": e.v1(e.v1AddBatch)})
	h(p+"/{job}/batch/{batch}", map[string]handlerFunc{"GET": e.v1(e.v1GetBatch)})
	h(p+"/{job}/batch/{batch}/request", map[string]handlerFunc{"GET": e.v1(e.v1BatchRequest)})
	h(p+"/{job}/batch/{batch}/result", map[string]handlerFunc{"GET": e.v1(e.v1BatchResult)})
	h(p+"/{job}/batch/{batch}/result/{result}", map[string]handlerFunc{"GET": e.v1(e.v1QueryResult)})
	// Any other path under a version: the Bulk API's own fault, not the
	// REST API's NOT_FOUND array.
	unknown := e.v1(v1UnknownPath)
	h("/services/async/{apiVersion}/{rest...}", map[string]handlerFunc{"GET": unknown, "POST": unknown, "PUT": unknown, "PATCH": unknown, "DELETE": unknown})
}

// v1MethodNotAllowed answers a method a Bulk 1.0 resource does not take:
// HTTP 405, which the Bulk API guide lists for "a method other than GET or
// POST"; code and text as the Bulk API 2.0 guide's "Errors" list gives
// MethodNotAllowed ("HTTP Method '<method>' not allowed. Allowed are
// <methods>").
func v1MethodNotAllowed(v *v1Call) {
	v.fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "HTTP Method '"+v.r.Method+"' not allowed. Allowed are GET,POST")
}

// v1UnknownPath answers a path the Bulk API does not have: InvalidOperation
// when the segment after the version is not "job" (the errors list: "check
// the spelling of 'job' in the URI"), InvalidUrl otherwise; HTTP 400 (the
// guide's status list has no 404). Texts UNCONFIRMED.
func v1UnknownPath(v *v1Call) {
	rest := v.r.PathValue("rest")
	if seg, _, _ := strings.Cut(rest, "/"); seg != "job" {
		v.fail(http.StatusBadRequest, "InvalidOperation", "Unknown operation: "+seg)
		return
	}
	v.fail(http.StatusBadRequest, "InvalidUrl", "Unknown URI: "+v.r.URL.Path)
}

// v1 authenticates a Bulk 1.0 call (X-SFDC-Session, or Bearer), checks
// the version, counts it against the API allowance and runs h.
func (e *Emulator) v1(h func(v *v1Call)) handlerFunc {
	return func(c *call) {
		v := &v1Call{call: c, json: strings.Contains(strings.ToLower(c.r.Header.Get("Content-Type")), "json")}
		m := asyncVersionRE.FindStringSubmatch(c.r.PathValue("apiVersion"))
		n := 0
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n < MinVersion || n > MaxVersion {
			v.fail(http.StatusNotFound, "InvalidUrl", "Unknown API version: "+c.r.PathValue("apiVersion"))
			return
		}
		c.version = m[1] + ".0"
		tok := strings.TrimSpace(c.r.Header.Get("X-SFDC-Session"))
		if tok == "" {
			tok = bearerToken(c.r)
		}
		sess, ok := e.authenticateToken(tok)
		if !ok || !hasScope(sess.Scopes, "api", "full") {
			// The api scope covers the Bulk API as it does REST ("api:
			// access ... using APIs, such as REST API and Bulk API"), so a
			// token granted without it (scope=openid, say) is refused here
			// as REST refuses it: with this API's own fault for a session it
			// cannot use. Same code and text as an unknown session (see
			// fail); UNCONFIRMED that Salesforce treats a scope-less token so.
			v.fail(http.StatusBadRequest, "InvalidSessionId", "Invalid session id")
			return
		}
		c.sess = sess
		if !e.spendCall(c) {
			// The daily allowance is spent: Bulk 1.0's own fault rather
			// than the REST error array its XML clients cannot read.
			// ExceededQuota is the Bulk API's code for a spent allocation;
			// the status (REST's 403) and text for this case UNCONFIRMED.
			v.fail(http.StatusForbidden, "ExceededQuota", "TotalRequests Limit exceeded.")
			return
		}
		h(v)
	}
}

// job finds {job}; it answers InvalidJob and returns nil when unknown.
func (e *Emulator) v1JobOf(v *v1Call) *v1Job {
	s := e.bulkV1()
	id, _ := normalizeID(v.r.PathValue("job"))
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil {
		v.fail(http.StatusBadRequest, "InvalidJob", "Unable to find job: "+v.r.PathValue("job"))
		return nil
	}
	if !strings.Contains(strings.ToLower(v.r.Header.Get("Content-Type")), "xml") && j.contentType == "JSON" {
		v.json = true
	}
	return j
}

func (e *Emulator) v1BatchOf(v *v1Call, j *v1Job) *v1Batch {
	s := e.bulkV1()
	id, _ := normalizeID(v.r.PathValue("batch"))
	s.mu.Lock()
	b := s.batches[id]
	s.mu.Unlock()
	if b == nil || b.job != j {
		v.fail(http.StatusBadRequest, "InvalidBatch", "Unable to find batch: "+v.r.PathValue("batch"))
		return nil
	}
	return b
}

var v1Operations = map[string]string{"insert": "insert", "update": "update", "upsert": "upsert", "delete": "delete",
	"harddelete": "hardDelete", "query": "query", "queryall": "queryAll"}

func (e *Emulator) v1CreateJob(v *v1Call) {
	body, err := readBody(v.r, 1<<20)
	if err != nil {
		v.fail(http.StatusBadRequest, "InvalidJob", err.Error())
		return
	}
	f, err := readFields(body, v.json)
	if err != nil {
		v.fail(http.StatusBadRequest, "InvalidJob", "Unable to parse the job: "+err.Error())
		return
	}
	op, ok := v1Operations[strings.ToLower(f["operation"])]
	if !ok {
		v.fail(http.StatusBadRequest, "InvalidJob", fmt.Sprintf("Invalid operation: '%s'", f["operation"]))
		return
	}
	ct := strings.ToUpper(f["contentType"])
	switch ct {
	case "CSV", "JSON":
	case "", "XML":
		v.fail(http.StatusBadRequest, "InvalidJob", "contentType XML is not supported by the emulator; use CSV or JSON")
		return
	default:
		v.fail(http.StatusBadRequest, "InvalidJob", "Invalid contentType: "+f["contentType"])
		return
	}
	e.mu.Lock()
	obj := e.sobjectLocked(f["object"])
	if obj == nil {
		e.mu.Unlock()
		v.fail(http.StatusBadRequest, "InvalidJob", "Unable to find object: "+f["object"])
		return
	}
	ext := f["externalIdFieldName"]
	if op == "upsert" {
		ef := obj.field(ext)
		if ef == nil || !(ef.ExternalID || ef.IDLookup) {
			e.mu.Unlock()
			v.fail(http.StatusBadRequest, "InvalidJob", "External ID was blank or not an External ID field: "+ext)
			return
		}
		ext = ef.Name
	} else {
		ext = ""
	}
	id := e.newIDLocked("750")
	e.mu.Unlock()
	now := e.now()
	j := &v1Job{id: id, operation: op, object: obj.Name, extField: ext, contentType: ct, apiVersion: v.version,
		createdBy: v.sess.UserID, created: now, state: "Open", modstamp: now}
	s := e.bulkV1()
	s.mu.Lock()
	s.jobs[id] = j
	info := j.infoLocked()
	s.mu.Unlock()
	v.write(http.StatusCreated, "jobInfo", info)
}

// infoLocked renders jobInfo; v1Store.mu is held.
func (j *v1Job) infoLocked() []kv {
	var queued, running, done, failed, processed, recFailed int
	var ms int64
	for _, b := range j.batches {
		switch b.state {
		case batchQueued:
			queued++
		case batchInProgress:
			running++
		case batchCompleted:
			done++
		case batchFailed, batchNotProcessed:
			failed++
		}
		processed += b.processed
		recFailed += b.failed
		ms += b.totalMS
	}
	out := []kv{{"id", j.id}, {"operation", j.operation}, {"object", j.object}, {"createdById", j.createdBy},
		{"createdDate", v1Time(j.created)}, {"systemModstamp", v1Time(j.modstamp)}, {"state", j.state}}
	if j.extField != "" {
		out = append(out, kv{"externalIdFieldName", j.extField})
	}
	return append(out, kv{"concurrencyMode", "Parallel"}, kv{"contentType", j.contentType},
		kv{"numberBatchesQueued", queued}, kv{"numberBatchesInProgress", running},
		kv{"numberBatchesCompleted", done}, kv{"numberBatchesFailed", failed},
		kv{"numberBatchesTotal", len(j.batches)}, kv{"numberRecordsProcessed", processed},
		kv{"numberRetries", 0}, kv{"apiVersion", json.Number(j.apiVersion)},
		kv{"numberRecordsFailed", recFailed}, kv{"totalProcessingTime", ms},
		kv{"apiActiveProcessingTime", ms}, kv{"apexProcessingTime", 0})
}

func (e *Emulator) v1GetJob(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	s := e.bulkV1()
	s.mu.Lock()
	info := j.infoLocked()
	s.mu.Unlock()
	v.write(http.StatusOK, "jobInfo", info)
}

// v1UpdateJob closes or aborts a job.
func (e *Emulator) v1UpdateJob(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	body, err := readBody(v.r, 1<<20)
	var f map[string]string
	if err == nil {
		f, err = readFields(body, strings.Contains(strings.ToLower(v.r.Header.Get("Content-Type")), "json"))
	}
	if err != nil {
		v.fail(http.StatusBadRequest, "InvalidJob", "Unable to parse the job update: "+err.Error())
		return
	}
	s := e.bulkV1()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch want := f["state"]; {
	case j.state != "Open" && (want == "Closed" || want == "Aborted"):
		v.fail(http.StatusBadRequest, "InvalidJobState", fmt.Sprintf("Job %s is %s; it cannot be moved to %s", j.id, j.state, want))
		return
	case want == "Closed":
		j.state = "Closed"
	case want == "Aborted":
		j.state = "Aborted"
		for _, b := range j.batches {
			if b.state == batchQueued || b.state == batchInProgress {
				b.state, b.stateMessage = batchNotProcessed, "Job aborted"
				if b.run != nil {
					e.bulk.mu.Lock()
					b.run.state = jobAborted
					e.bulk.mu.Unlock()
				}
			}
		}
	default:
		v.fail(http.StatusBadRequest, "InvalidJob", fmt.Sprintf("Invalid state: '%s'", want))
		return
	}
	j.modstamp = e.now()
	v.write(http.StatusOK, "jobInfo", j.infoLocked())
}

func (b *v1Batch) infoLocked() []kv {
	out := []kv{{"id", b.id}, {"jobId", b.job.id}, {"state", b.state}}
	if b.stateMessage != "" {
		out = append(out, kv{"stateMessage", b.stateMessage})
	}
	return append(out, kv{"createdDate", v1Time(b.created)}, kv{"systemModstamp", v1Time(b.modstamp)},
		kv{"numberRecordsProcessed", b.processed}, kv{"numberRecordsFailed", b.failed},
		kv{"totalProcessingTime", b.totalMS}, kv{"apiActiveProcessingTime", b.totalMS}, kv{"apexProcessingTime", 0})
}

func (e *Emulator) v1AddBatch(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	data, err := readLimited(v.r.Body, maxBulkUpload)
	if err != nil {
		v.fail(http.StatusBadRequest, "ExceededQuota", "The batch is larger than 150 MB")
		return
	}
	query := j.operation == "query" || j.operation == "queryAll"
	if !query {
		if j.contentType == "JSON" {
			if data, err = jsonRecordsToCSV(data); err != nil {
				v.fail(http.StatusBadRequest, "InvalidBatch", "Unable to parse the JSON batch: "+err.Error())
				return
			}
		}
	} else {
		e.mu.RLock()
		_, qerr := e.bulkCheckQueryLocked(string(data))
		e.mu.RUnlock()
		if qerr != nil {
			v.fail(http.StatusBadRequest, "InvalidBatch", "Failed to process query: "+qerr.Code+": "+qerr.Message)
			return
		}
	}
	e.mu.Lock()
	id := e.newIDLocked("751")
	e.mu.Unlock()
	now := e.now()
	s := e.bulkV1()
	s.mu.Lock()
	if j.state != "Open" {
		st := j.state
		s.mu.Unlock()
		v.fail(http.StatusBadRequest, "InvalidJobState", "Job "+j.id+" is "+st+"; batches can be added to Open jobs only")
		return
	}
	b := &v1Batch{id: id, job: j, created: now, modstamp: now, request: data, state: batchQueued}
	j.batches = append(j.batches, b)
	s.batches[id] = b
	info := b.infoLocked()
	s.mu.Unlock()

	bj := &e.bulk
	bj.mu.Lock()
	if !bj.closed {
		if bj.stop == nil {
			bj.stop = make(chan struct{})
		}
		if bj.slots == nil {
			bj.slots = make(chan struct{}, bulkConcurrency)
		}
		bj.wg.Add(1)
		go e.v1RunBatch(b, bj.stop, bj.slots)
	}
	bj.mu.Unlock()
	v.write(http.StatusCreated, "batchInfo", info)
}

// v1RunBatch processes one batch through a Bulk 2.0 job of its own.
func (e *Emulator) v1RunBatch(b *v1Batch, stop <-chan struct{}, slots chan struct{}) {
	defer e.bulk.wg.Done()
	delay := bulkPickupDelay
	if d := e.bulkPace().StartDelay; d > 0 {
		delay = d
	}
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-stop:
		t.Stop()
		return
	}
	select {
	case slots <- struct{}{}:
	case <-stop:
		return
	}
	defer func() { <-slots }()
	j := b.job
	run := &bulkJob{query: j.operation == "query" || j.operation == "queryAll", operation: j.operation, object: j.object,
		extField: j.extField, lineEnding: "LF", delimiter: "COMMA", apiVersion: j.apiVersion, createdBy: j.createdBy,
		created: b.created, state: jobInProgress, done: make(chan struct{}), claimed: true}
	if bytes.Contains(b.request, []byte("\r\n")) {
		run.lineEnding = "CRLF"
	}
	s := e.bulkV1()
	s.mu.Lock()
	if b.state != batchQueued {
		s.mu.Unlock()
		return
	}
	b.state, b.modstamp, b.run = batchInProgress, e.now(), run
	s.mu.Unlock()

	start := time.Now()
	var failMsg string
	if run.query {
		run.queryText = string(b.request)
		failMsg = e.runQueryJob(run)
	} else {
		run.data = b.request
		failMsg = e.runIngestJob(run, start)
	}
	var result []byte
	if run.query && failMsg == "" && j.contentType == "JSON" {
		result = e.v1QueryJSON(run)
	}
	e.bulk.mu.Lock()
	aborted := run.state != jobInProgress
	rows := run.rows
	errs := run.errs
	processed := run.processed
	csv := run.result
	e.bulk.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	b.modstamp = e.now()
	b.totalMS = time.Since(start).Milliseconds()
	switch {
	case aborted:
		if b.state == batchInProgress {
			b.state, b.stateMessage = batchNotProcessed, "Job aborted"
		}
		return
	case failMsg != "":
		b.state, b.stateMessage = batchFailed, failMsg
		return
	}
	b.state = batchCompleted
	b.processed = processed
	if run.query {
		e.mu.Lock()
		b.resultID = e.newIDLocked("752")
		e.mu.Unlock()
		b.result = csv
		if result != nil {
			b.result = result
		}
		return
	}
	b.results = make([]v1Result, len(rows))
	for i, r := range rows {
		res := v1Result{id: r.idString()}
		switch r.outcome {
		case rowCreated:
			res.success, res.created = true, true
		case rowUpdated:
			res.success = true
		default:
			res.id = ""
			if int(r.err) < len(errs) {
				res.err = errs[r.err]
			}
			b.failed++
		}
		b.results[i] = res
	}
}

// v1QueryJSON runs a query batch again for JSON results: records as the
// REST query resource renders them.
func (e *Emulator) v1QueryJSON(run *bulkJob) []byte {
	e.mu.RLock()
	defer e.mu.RUnlock()
	res, qerr := e.execQueryLocked(run.queryText, run.operation == "queryAll")
	if qerr != nil {
		return []byte("[]")
	}
	c := &call{version: run.apiVersion}
	recs := make([]any, len(res.records))
	for i, r := range res.records {
		recs[i] = e.renderQueryRecordLocked(c, res.plan, r, e.childIndexLocked(res.plan, res.records[i:i+1]))
	}
	out, _ := json.Marshal(recs)
	return out
}

// jsonRecordsToCSV turns a JSON batch ([{"LastName":"x","Account":{"Ext__c":"1"}}])
// into the CSV the ingest machinery reads: nested objects become
// relationship columns (Account.Ext__c), null becomes #N/A.
func jsonRecordsToCSV(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var recs []map[string]any
	if err := dec.Decode(&recs); err != nil {
		return nil, err
	}
	var cols []string
	seen := map[string]bool{}
	flat := make([]map[string]string, len(recs))
	for i, r := range recs {
		flat[i] = map[string]string{}
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "attributes" {
				continue
			}
			add := func(col, val string) {
				if !seen[col] {
					seen[col] = true
					cols = append(cols, col)
				}
				flat[i][col] = val
			}
			switch x := r[k].(type) {
			case nil:
				add(k, "#N/A")
			case map[string]any:
				for nk, nv := range x {
					if nk != "attributes" {
						add(k+"."+nk, fmt.Sprint(nv))
					}
				}
			case string:
				add(k, x)
			default:
				add(k, fmt.Sprint(x))
			}
		}
	}
	var out []byte
	for i, c := range cols {
		if i > 0 {
			out = append(out, ',')
		}
		out = bulkQuote(out, c)
	}
	out = append(out, '\n')
	for _, r := range flat {
		for i, c := range cols {
			if i > 0 {
				out = append(out, ',')
			}
			out = bulkQuote(out, r[c])
		}
		out = append(out, '\n')
	}
	return out, nil
}

func (e *Emulator) v1ListBatches(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	s := e.bulkV1()
	s.mu.Lock()
	list := make([][]kv, len(j.batches))
	for i, b := range j.batches {
		list[i] = b.infoLocked()
	}
	s.mu.Unlock()
	v.write(http.StatusOK, "batchInfoList", []kv{{"batchInfo", list}})
}

func (e *Emulator) v1GetBatch(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	b := e.v1BatchOf(v, j)
	if b == nil {
		return
	}
	s := e.bulkV1()
	s.mu.Lock()
	info := b.infoLocked()
	s.mu.Unlock()
	v.write(http.StatusOK, "batchInfo", info)
}

func (e *Emulator) v1BatchRequest(v *v1Call) {
	j := e.v1JobOf(v)
	if j == nil {
		return
	}
	b := e.v1BatchOf(v, j)
	if b == nil {
		return
	}
	ct := "text/csv"
	if j.operation == "query" || j.operation == "queryAll" {
		ct = "text/plain"
	}
	v.w.Header().Set("Content-Type", ct)
	_, _ = v.w.Write(b.request)
}

// completedBatch returns the batch once Completed; else it answers.
func (e *Emulator) completedBatch(v *v1Call) (*v1Job, *v1Batch) {
	j := e.v1JobOf(v)
	if j == nil {
		return nil, nil
	}
	b := e.v1BatchOf(v, j)
	if b == nil {
		return nil, nil
	}
	s := e.bulkV1()
	s.mu.Lock()
	state := b.state
	s.mu.Unlock()
	if state != batchCompleted {
		// UNCONFIRMED wording.
		v.fail(http.StatusBadRequest, "InvalidBatch", "Batch not completed: "+state)
		return nil, nil
	}
	return j, b
}

func (e *Emulator) v1BatchResult(v *v1Call) {
	j, b := e.completedBatch(v)
	if b == nil {
		return
	}
	if j.operation == "query" || j.operation == "queryAll" {
		if v.json {
			v.w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(v.w).Encode([]string{b.resultID})
			return
		}
		v.w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(v.w, `<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="%s"><result>%s</result></result-list>`, asyncNS, b.resultID)
		return
	}
	if j.contentType == "JSON" {
		type errJSON struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		}
		type resJSON struct {
			Success bool      `json:"success"`
			Created bool      `json:"created"`
			ID      *string   `json:"id"`
			Errors  []errJSON `json:"errors"`
		}
		out := make([]resJSON, len(b.results))
		for i, r := range b.results {
			out[i] = resJSON{Success: r.success, Created: r.created, Errors: []errJSON{}}
			if r.id != "" {
				id := r.id
				out[i].ID = &id
			}
			if r.err != "" {
				code, msg, fields := splitSfError(r.err)
				out[i].Errors = []errJSON{{code, msg, fields}}
			}
		}
		v.w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(v.w).Encode(out)
		return
	}
	out := []byte(`"Id","Success","Created","Error"` + "\n")
	for _, r := range b.results {
		out = append(out, '"')
		out = append(out, r.id...)
		out = append(out, `","`+strconv.FormatBool(r.success)+`","`+strconv.FormatBool(r.created)+`",`...)
		out = bulkQuote(out, r.err)
		out = append(out, '\n')
	}
	v.w.Header().Set("Content-Type", "text/csv")
	_, _ = v.w.Write(out)
}

// splitSfError reads "CODE:message:Field1,Field2 --" back into its parts.
func splitSfError(s string) (code, msg string, fields []string) {
	fields = []string{}
	code, rest, _ := strings.Cut(s, ":")
	rest = strings.TrimSuffix(rest, " --")
	rest = strings.TrimSuffix(rest, "--")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		if f := rest[i+1:]; f != "" {
			fields = strings.Split(f, ",")
		}
		rest = rest[:i]
	}
	return code, rest, fields
}

func (e *Emulator) v1QueryResult(v *v1Call) {
	j, b := e.completedBatch(v)
	if b == nil {
		return
	}
	if b.resultID == "" || !strings.EqualFold(v.r.PathValue("result"), b.resultID) && !strings.EqualFold(v.r.PathValue("result"), b.resultID[:15]) {
		v.fail(http.StatusBadRequest, "InvalidBatch", "Unable to find result: "+v.r.PathValue("result"))
		return
	}
	if j.contentType == "JSON" {
		v.w.Header().Set("Content-Type", "application/json")
	} else {
		v.w.Header().Set("Content-Type", "text/csv")
	}
	_, _ = v.w.Write(b.result)
}
