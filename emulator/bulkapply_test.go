package emulator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// refIngestApplier is how Bulk ingest applied a record before it had a
// path of its own: a field map per record, handed to insertLocked,
// updateLocked and upsertLocked like a REST call's body. Kept as the
// reference the fast path is compared with.
type refIngestApplier struct {
	e      *Emulator
	j      *bulkJob
	cols   []bulkColumn
	errs   []string
	errIdx map[string]uint32
}

func (p *refIngestApplier) fail(r *bulkRow, rerr *recordError) bool {
	msg := rerr.Code + ":" + rerr.Message + ":"
	if len(rerr.Fields) > 0 {
		msg += strings.Join(rerr.Fields, ",") + " --"
	} else {
		msg += "--"
	}
	if p.errIdx == nil {
		p.errIdx = map[string]uint32{}
	}
	idx, ok := p.errIdx[msg]
	if !ok {
		idx = uint32(len(p.errs))
		p.errs = append(p.errs, msg)
		p.errIdx[msg] = idx
	}
	r.outcome = rowFailed
	r.err = idx
	return false
}

func (p *refIngestApplier) apply(r *bulkRow, vals []string) bool {
	e := p.e
	in := make(map[string]any, len(vals))
	var id string
	deleting := p.j.operation == "delete" || p.j.operation == "hardDelete"
	for i, c := range p.cols {
		v := vals[i]
		if c.isID {
			id = strings.TrimSpace(v)
			continue
		}
		switch {
		case deleting:
		case v == "":
		case v == "#N/A":
			in[c.field.Name] = nil
		case c.relObj != nil:
			ref, rerr := e.resolveForeignKeyLocked(c, v)
			if rerr != nil {
				return p.fail(r, rerr)
			}
			in[c.field.Name] = ref
		default:
			in[c.field.Name] = csvString(v)
		}
	}
	if id != "" {
		if nid, ok := normalizeID(id); ok {
			id = nid
		}
	}
	obj := p.j.object
	switch p.j.operation {
	case "insert":
		if id != "" {
			return p.fail(r, newRecErr("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id"))
		}
		nid, rerr := e.insertLocked(obj, in)
		if rerr != nil {
			return p.fail(r, rerr)
		}
		r.setID(nid)
		r.outcome = rowCreated
	case "update":
		if id == "" {
			return p.fail(r, newRecErr("MISSING_ARGUMENT", "Id not specified in an update call"))
		}
		if looksLikeID(id) {
			r.setID(id)
		}
		if rerr := e.updateLocked(obj, id, in); rerr != nil {
			return p.fail(r, rerr)
		}
		r.outcome = rowUpdated
	case "upsert":
		ext := p.j.extField
		key := id
		if ext != "Id" {
			key = ""
			for i, c := range p.cols {
				if c.relObj == nil && c.field.Name == ext {
					key = strings.TrimSpace(vals[i])
				}
			}
		}
		nid, created, _, rerr := e.upsertLocked(obj, ext, key, in)
		if rerr != nil {
			return p.fail(r, rerr)
		}
		r.setID(nid)
		r.outcome = rowUpdated
		if created {
			r.outcome = rowCreated
		}
	}
	return true
}

// refIngest runs a job's data through refIngestApplier; header errors
// are the test's to avoid.
func refIngest(t *testing.T, e *Emulator, j *bulkJob) ([]bulkRow, []string) {
	t.Helper()
	sc := newCSVScanner(j.data, bulkDelimiters[j.delimiter], j.lineEnding == "CRLF")
	header, _, _, _, err := sc.next(nil)
	if err != nil {
		t.Fatal(err)
	}
	header = append([]string(nil), header...)
	e.mu.Lock()
	defer e.mu.Unlock()
	cols, msg := e.bulkColumnsLocked(e.sobjectLocked(j.object), header)
	if msg != "" {
		t.Fatal(msg)
	}
	p := &refIngestApplier{e: e, j: j, cols: cols}
	var rows []bulkRow
	var fields []string
	for {
		var s, en int
		var ok bool
		fields, s, en, ok, err = sc.next(fields)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		r := bulkRow{start: uint32(s), end: uint32(en)}
		p.apply(&r, fields)
		rows = append(rows, r)
	}
	return rows, p.errs
}

// fastIngest runs a job's data through runIngestJob.
func fastIngest(t *testing.T, e *Emulator, j *bulkJob) ([]bulkRow, []string) {
	t.Helper()
	if msg := e.runIngestJob(j, time.Now()); msg != "" {
		t.Fatal(msg)
	}
	return j.rows[:j.processed], j.errs
}

// TestBulkIngestMatchesFieldMapPath runs random jobs (values valid and not,
// blank, #N/A, padded, keys repeated in other letter cases, a field given
// twice) through the Bulk path in one emulator and through the field-map
// path in another, and wants the same outcome, Id and error for every
// row, and the same records and indexes at the end.
func TestBulkIngestMatchesFieldMapPath(t *testing.T) {
	fast, err := New(bulkCasesConfig())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := New(bulkCasesConfig())
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []*Emulator{fast, ref} {
		e.FreezeStamp(stamp)
		e.mu.Lock()
		if e.org.adminID == "" {
			if err := e.seedLocked(); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 4; i++ {
			if _, rerr := e.insertLocked("Account", map[string]any{"Name": fmt.Sprint("Acct ", i), "Ext__c": fmt.Sprint("A", i)}); rerr != nil {
				t.Fatal(rerr)
			}
		}
		e.mu.Unlock()
	}
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	key := func() string {
		return pick("k1", "k2", "K1", " k3 ", "k4", "k5", "", "#N/A", "k6", "k7", "k8", "K8")
	}
	ids := func(e *Emulator, obj string) []string {
		e.mu.RLock()
		defer e.mu.RUnlock()
		var out []string
		for _, r := range e.sobjectLocked(obj).rows {
			if r != nil {
				out = append(out, r.ID)
			}
		}
		return out
	}
	type shape struct {
		object, op, ext string
		header          []string
		value           func(col string) string
	}
	clean := false // the row gets valid values only
	gadget := func(col string) string {
		if clean {
			switch col {
			case "Key__c":
				return key()
			case "Req__c":
				return "r"
			case "Num__c":
				return pick("", "1.5", "-0.001")
			case "Note__c":
				return pick("", "abc", "\"q\"\"q\"")
			case "Acct__r.Ext__c":
				return pick("", "a1", "#N/A")
			}
			return ""
		}
		switch col {
		case "Key__c":
			return key()
		case "Num__c":
			return pick("", "1.5", "1.005", "abc", "#N/A", "999.999", "-0.001", " 2 ")
		case "Count__c":
			return pick("", "3", "2.5", "x", "3000000000")
		case "Flag__c":
			return pick("", "true", "FALSE", "1", "0", "yes")
		case "Color__c":
			return pick("", "Red", "Blue", "Green", "#N/A")
		case "Mail__c":
			return pick("", "a@example.com", " b@example.com ", "bad@", "#N/A")
		case "Note__c":
			return pick("", "abc", "abcdefg", "\"a,b\"", "\"q\"\"q\"")
		case "Req__c":
			return pick("r", "r", "r", "", "#N/A", "  ")
		case "Acct__c":
			return pick("", "#N/A", "bad", "001zz0000000001")
		case "Acct__r.Ext__c":
			return pick("", "a1", "A2", "NOPE", "#N/A")
		case "Day__c":
			return pick("", "2024-02-03", "2024-13-01", "2024-02-03T10:00:00Z")
		case "Size__c":
			return pick("", "S", "#N/A")
		case "CreatedDate", "LastModifiedDate":
			return pick("", "", "", "2024-01-01T00:00:00Z")
		}
		return ""
	}
	shapes := []shape{
		{"Gadget__c", "upsert", "Key__c", []string{"Key__c", "Num__c", "Count__c", "Flag__c", "Color__c", "Mail__c", "Note__c", "Req__c", "Acct__c", "Acct__r.Ext__c", "Day__c", "Size__c"}, gadget},
		{"Gadget__c", "insert", "", []string{"Req__c", "Key__c", "Note__c", "Acct__r.Ext__c", "Acct__c", "CreatedDate"}, gadget},
		{"Gadget__c", "upsert", "Key__c", []string{"LastModifiedDate", "Key__c", "Req__c", "CreatedDate", "Num__c"}, gadget},
		{"Lead", "upsert", "Forcesync_Key__c", []string{"Forcesync_Key__c", "FirstName", "LastName", "Email", "Company"}, func(col string) string {
			switch col {
			case "Forcesync_Key__c":
				return key()
			case "Email":
				if clean {
					return pick("", "x@example.com")
				}
				return pick("", "x@example.com", "nope", "#N/A")
			case "LastName", "Company":
				if clean {
					return pick("L", "M")
				}
				return pick("L", "M", "", "#N/A")
			}
			return pick("", "F", "G", "#N/A")
		}},
	}
	var outcomes [rowFailed + 1]int
	errTexts := map[string]bool{}
	for job := 0; job < 40; job++ {
		s := shapes[rng.IntN(len(shapes))]
		header := s.header
		var update []string
		if job%5 == 4 {
			// An update by Id of records already there (and some that are not).
			update = append(ids(fast, s.object), "bad", "001000000000000AAA")
			header = append([]string{"Id"}, s.header[1:]...)
		}
		var sb strings.Builder
		sb.WriteString(strings.Join(header, ",") + "\n")
		for row := 0; row < 30; row++ {
			clean = rng.IntN(2) == 0
			for i, col := range header {
				if i > 0 {
					sb.WriteByte(',')
				}
				if col == "Id" {
					id := update[rng.IntN(len(update))]
					if rng.IntN(4) == 0 {
						id = strings.ToLower(id)
					}
					sb.WriteString(id)
					continue
				}
				sb.WriteString(s.value(col))
			}
			sb.WriteByte('\n')
		}
		newJob := func() *bulkJob {
			j := &bulkJob{operation: s.op, object: s.object, extField: s.ext, delimiter: "COMMA", lineEnding: "LF",
				data: []byte(sb.String()), state: jobInProgress, handlerRun: true}
			if update != nil {
				j.operation, j.extField = "update", ""
			}
			return j
		}
		fr, fe := fastIngest(t, fast, newJob())
		rr, re := refIngest(t, ref, newJob())
		if len(fr) != len(rr) {
			t.Fatalf("job %d: %d rows, reference %d", job, len(fr), len(rr))
		}
		for i := range fr {
			f, r := fr[i], rr[i]
			ferr, rerr := "", ""
			if f.outcome == rowFailed {
				ferr = fe[f.err]
			}
			if r.outcome == rowFailed {
				rerr = re[r.err]
			}
			outcomes[f.outcome]++
			errTexts[ferr] = true
			if f.outcome != r.outcome || f.id != r.id || ferr != rerr {
				t.Fatalf("job %d (%s %s) row %d %q:\n got %d %s %s\nwant %d %s %s", job, s.op, s.object, i,
					newJob().data[f.start:f.end], f.outcome, f.idString(), ferr, r.outcome, r.idString(), rerr)
			}
		}
	}
	// The random jobs must have reached every outcome and many errors.
	if outcomes[rowCreated] == 0 || outcomes[rowUpdated] == 0 || outcomes[rowFailed] == 0 || len(errTexts) < 15 {
		t.Errorf("outcomes %v, %d error texts: the jobs test too little", outcomes, len(errTexts))
	}
	t.Logf("outcomes (updated, created, failed) %v, %d error texts", outcomes[1:], len(errTexts))
	var fd, rd strings.Builder
	fast.mu.RLock()
	dumpRecordsLocked(&fd, fast, "Gadget__c", "Lead", "Account")
	fast.mu.RUnlock()
	ref.mu.RLock()
	dumpRecordsLocked(&rd, ref, "Gadget__c", "Lead", "Account")
	ref.mu.RUnlock()
	if fd.String() != rd.String() {
		t.Errorf("records differ:\n%s", firstDiff(rd.String(), fd.String()))
	}
}

// TestUpdateMovesIndexEntries checks the External ID index after updates
// that keep, change, fail and roll back a key: applyUpdateLocked moves an
// entry only when its key changes, and a rollback puts it back.
func TestUpdateMovesIndexEntries(t *testing.T) {
	e, err := New(bulkCasesConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.sobjectLocked("Account")
	ext := o.field("Ext__c")
	ids := func(key string) []string {
		var out []string
		for _, r := range lookupIndex(o, ext, key) {
			out = append(out, r.ID)
		}
		return out
	}
	id, rerr := e.insertLocked("Account", map[string]any{"Name": "A", "Ext__c": "K1"})
	if rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := e.updateLocked("Account", id, map[string]any{"Name": "B"}); rerr != nil {
		t.Fatal(rerr)
	}
	if got := ids("k1"); len(got) != 1 || got[0] != id {
		t.Errorf("after a name change, k1 %v", got)
	}
	if rerr := e.updateLocked("Account", id, map[string]any{"Ext__c": "K2"}); rerr != nil {
		t.Fatal(rerr)
	}
	if got, old := ids("K2"), ids("K1"); len(got) != 1 || len(old) != 0 {
		t.Errorf("after a key change, K2 %v, K1 %v", got, old)
	}
	// A failed update (Name is required) leaves the key where it was.
	if rerr := e.updateLocked("Account", id, map[string]any{"Ext__c": "K3", "Name": nil}); rerr == nil || rerr.Code != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("update without a name: %v", rerr)
	}
	if got, none := ids("K2"), ids("K3"); len(got) != 1 || len(none) != 0 {
		t.Errorf("after a failed update, K2 %v, K3 %v", got, none)
	}
	r := e.getRecordLocked(id)
	if name, key := r.getName("Name"), r.getName("Ext__c"); name != "B" || key != "K2" {
		t.Errorf("after a failed update, Name %v, Ext__c %v", name, key)
	}
	// The buffer that held the old values serves the next update, and keeps none.
	for _, s := range e.org.slotScratch[:cap(e.org.slotScratch)] {
		if s.v != nil {
			t.Errorf("scratch holds %v", s.v)
		}
	}
	// A rolled-back transaction undoes a key change and a kept key alike.
	tx := e.beginLocked()
	if rerr := e.updateLocked("Account", id, map[string]any{"Ext__c": "K4"}); rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := e.updateLocked("Account", id, map[string]any{"Name": "C"}); rerr != nil {
		t.Fatal(rerr)
	}
	tx.rollback()
	if got, none := ids("K2"), ids("K4"); len(got) != 1 || len(none) != 0 {
		t.Errorf("after a rollback, K2 %v, K4 %v", got, none)
	}
	if name := e.getRecordLocked(id).getName("Name"); name != "B" {
		t.Errorf("after a rollback, Name %v", name)
	}
	// The unique check still sees other records while r keeps its entry.
	other, rerr := e.insertLocked("Account", map[string]any{"Name": "O", "Ext__c": "K5"})
	if rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := e.updateLocked("Account", id, map[string]any{"Ext__c": "k5"}); rerr == nil || rerr.Code != "DUPLICATE_VALUE" {
		t.Errorf("update onto another record's key: %v", rerr)
	}
	if got := ids("K5"); len(got) != 1 || got[0] != other {
		t.Errorf("K5 %v", got)
	}
}

// TestCoerceCSVMatchesCoerceValue holds coerceCSV to coerceValue of a
// csvString for every field kind, values good and bad.
func TestCoerceCSVMatchesCoerceValue(t *testing.T) {
	types := []string{"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "reference",
		"boolean", "int", "double", "currency", "percent", "date", "datetime"}
	inputs := []string{"", " ", "abc", " 1 ", "1", "0", "true", "FALSE", "1.5", "1e3", "NaN", "2024-02-03",
		"2024-02-03T04:05:06Z", "2024-13-01", "#N/A", "001000000000001"}
	for _, typ := range types {
		f := fb("X__c", "X", typ)
		for _, in := range inputs {
			got, gerr := coerceCSV(f, in)
			want, werr := coerceValue(f, csvString(in))
			if fmt.Sprintf("%T %v %v", got, got, gerr) != fmt.Sprintf("%T %v %v", want, want, werr) {
				t.Errorf("%s %q: got %T %v %v, want %T %v %v", typ, in, got, got, gerr, want, want, werr)
			}
		}
	}
}

// TestBulkIngestObjectGone covers rows applied after the job's object left
// the schema between chunks: the same errors as the field-map path.
func TestBulkIngestObjectGone(t *testing.T) {
	e, err := New(bulkCasesConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	acct := e.sobjectLocked("Account")
	id, rerr := e.insertLocked("Account", map[string]any{"Name": "A", "Ext__c": "K1"})
	if rerr != nil {
		t.Fatal(rerr)
	}
	cols, msg := e.bulkColumnsLocked(acct, []string{"Id", "Name", "Ext__c"})
	if msg != "" {
		t.Fatal(msg)
	}
	delete(e.org.byName, "account")
	for _, j := range []*bulkJob{
		{operation: "insert", object: "Account"},
		{operation: "update", object: "Account"},
		{operation: "upsert", object: "Account", extField: "Ext__c"},
		{operation: "upsert", object: "Account", extField: "Id"},
	} {
		for _, vals := range [][]string{{"", "B", "K1"}, {id, "B", ""}, {"bad", "B", "K2"}} {
			p := newIngestApplier(e, j, cols)
			p.refreshLocked()
			ref := &refIngestApplier{e: e, j: j, cols: cols}
			var got, want bulkRow
			p.apply(&got, vals)
			ref.apply(&want, vals)
			if got.outcome != want.outcome || got.id != want.id || fmt.Sprint(p.errs) != fmt.Sprint(ref.errs) {
				t.Errorf("%s %v: got %d %s %v, want %d %s %v", j.operation, vals, got.outcome, got.idString(), p.errs, want.outcome, want.idString(), ref.errs)
			}
		}
	}
}

// TestBulkIngestFieldGone covers rows applied after a column's field was
// deleted between chunks: INVALID_FIELD as the field-map path gives it.
func TestBulkIngestFieldGone(t *testing.T) {
	e, err := New(bulkCasesConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	if _, rerr := e.insertLocked("Gadget__c", map[string]any{"Key__c": "g1", "Req__c": "r"}); rerr != nil {
		t.Fatal(rerr)
	}
	cols, msg := e.bulkColumnsLocked(e.sobjectLocked("Gadget__c"), []string{"Key__c", "Req__c", "Note__c", "Num__c", "CreatedDate"})
	e.mu.Unlock()
	if msg != "" {
		t.Fatal(msg)
	}
	if err := e.DeleteField("Gadget__c", "Note__c"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteField("Gadget__c", "Num__c"); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range []*bulkJob{
		{operation: "insert", object: "Gadget__c"},
		{operation: "upsert", object: "Gadget__c", extField: "Key__c"},
	} {
		for _, vals := range [][]string{{"g1", "r", "n", "1", ""}, {"g2", "r", "", "1", "2024-01-01T00:00:00Z"}, {"g3", "r", "", "", ""}, {"g4", "", "n", "", ""}} {
			p := newIngestApplier(e, j, cols)
			p.refreshLocked()
			ref := &refIngestApplier{e: e, j: j, cols: cols}
			var got, want bulkRow
			p.apply(&got, vals)
			if got.outcome != rowFailed {
				continue // a record was written; the reference would clash with it
			}
			ref.apply(&want, vals)
			if got.outcome != want.outcome || fmt.Sprint(p.errs) != fmt.Sprint(ref.errs) {
				t.Errorf("%s %v: got %d %v, want %d %v", j.operation, vals, got.outcome, p.errs, want.outcome, ref.errs)
			}
		}
	}
}
