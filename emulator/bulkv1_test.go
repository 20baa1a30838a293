package emulator

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// v1do sends a Bulk 1.0 request with the X-SFDC-Session header.
func (b *bulkEnv) v1do(method, path, ctype, body string) (int, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+"/services/async/62.0/"+path, strings.NewReader(body))
	req.Header.Set("X-SFDC-Session", b.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

type v1Info struct {
	ID           string `xml:"id" json:"id"`
	State        string `xml:"state" json:"state"`
	StateMessage string `xml:"stateMessage" json:"stateMessage"`
	Processed    int    `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	Failed       int    `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	Total        int    `xml:"numberBatchesTotal" json:"numberBatchesTotal"`
	Completed    int    `xml:"numberBatchesCompleted" json:"numberBatchesCompleted"`
}

func (b *bulkEnv) v1WaitBatch(job, batch string, isJSON bool) v1Info {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, out := b.v1do("GET", "job/"+job+"/batch/"+batch, "", "")
		var bi v1Info
		var err error
		if isJSON {
			err = json.Unmarshal(out, &bi)
		} else {
			err = xml.Unmarshal(out, &bi)
		}
		if st != 200 || err != nil {
			b.t.Fatalf("batch info: %d %s", st, out)
		}
		if bi.State != batchQueued && bi.State != batchInProgress {
			return bi
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("batch %s still %s", batch, bi.State)
		}
		time.Sleep(2 * time.Millisecond) // poll interval
	}
}

// Issue 14 item 8: Bulk API 1.0 with CSV (XML job documents) and JSON.
func TestBulkV1CSVAndJSON(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	st, out := b.v1do("POST", "job", "application/xml; charset=UTF-8",
		`<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Lead</object><contentType>CSV</contentType></jobInfo>`)
	var job v1Info
	if st != 201 || xml.Unmarshal(out, &job) != nil || job.State != "Open" || !strings.HasPrefix(job.ID, "750") {
		t.Fatalf("create: %d %s", st, out)
	}
	st, out = b.v1do("POST", "job/"+job.ID+"/batch", "text/csv; charset=UTF-8", "LastName,Company\nOne,Acme\nTwo,\n")
	var batch v1Info
	if st != 201 || xml.Unmarshal(out, &batch) != nil || batch.State != "Queued" || !strings.HasPrefix(batch.ID, "751") {
		t.Fatalf("batch: %d %s", st, out)
	}
	if st, out := b.v1do("POST", "job/"+job.ID, "application/xml", `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`); st != 200 || !strings.Contains(string(out), "<state>Closed</state>") {
		t.Fatalf("close: %d %s", st, out)
	}
	if st, out := b.v1do("POST", "job/"+job.ID+"/batch", "text/csv", "LastName,Company\nLate,X\n"); st != 400 || !strings.Contains(string(out), "InvalidJobState") {
		t.Fatalf("batch after close: %d %s", st, out)
	}
	bi := b.v1WaitBatch(job.ID, batch.ID, false)
	if bi.State != "Completed" || bi.Processed != 2 || bi.Failed != 1 {
		t.Fatalf("batch done: %+v", bi)
	}
	st, out = b.v1do("GET", "job/"+job.ID+"/batch/"+batch.ID+"/result", "", "")
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if st != 200 || err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "Id,Success,Created,Error" ||
		!strings.HasPrefix(rows[1][0], "00Q") || rows[1][1] != "true" || rows[1][2] != "true" ||
		rows[2][1] != "false" || !strings.HasPrefix(rows[2][3], "REQUIRED_FIELD_MISSING:") {
		t.Fatalf("results: %d %q", st, rows)
	}
	st, out = b.v1do("GET", "job/"+job.ID, "", "")
	if xml.Unmarshal(out, &job) != nil || job.Total != 1 || job.Completed != 1 || job.Processed != 2 || job.Failed != 1 {
		t.Fatalf("job: %d %s", st, out)
	}
	if st, out := b.v1do("GET", "job/"+job.ID+"/batch/"+batch.ID+"/request", "", ""); st != 200 || !strings.HasPrefix(string(out), "LastName,Company") {
		t.Fatalf("request: %d %s", st, out)
	}

	// JSON upsert job, then a JSON query job.
	st, out = b.v1do("POST", "job", "application/json", `{"operation":"upsert","object":"Account","externalIdFieldName":"Ext__c","contentType":"JSON"}`)
	if st != 201 || json.Unmarshal(out, &job) != nil {
		t.Fatalf("json create: %d %s", st, out)
	}
	st, out = b.v1do("POST", "job/"+job.ID+"/batch", "application/json", `[{"Name":"Acme","Ext__c":"A1","NumberOfEmployees":10},{"Name":null,"Ext__c":"A2"}]`)
	if st != 201 || json.Unmarshal(out, &batch) != nil {
		t.Fatalf("json batch: %d %s", st, out)
	}
	if bi := b.v1WaitBatch(job.ID, batch.ID, true); bi.State != "Completed" || bi.Processed != 2 || bi.Failed != 1 {
		t.Fatalf("json batch done: %+v", bi)
	}
	st, out = b.v1do("GET", "job/"+job.ID+"/batch/"+batch.ID+"/result", "", "")
	var res []struct {
		ID      *string `json:"id"`
		Success bool    `json:"success"`
		Created bool    `json:"created"`
		Errors  []struct {
			StatusCode string `json:"statusCode"`
		} `json:"errors"`
	}
	if st != 200 || json.Unmarshal(out, &res) != nil || len(res) != 2 || !res[0].Success || !res[0].Created || res[0].ID == nil ||
		res[1].Success || len(res[1].Errors) != 1 || res[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("json results: %d %s", st, out)
	}
	st, out = b.v1do("POST", "job", "application/json", `{"operation":"query","object":"Account","contentType":"JSON"}`)
	if st != 201 || json.Unmarshal(out, &job) != nil {
		t.Fatalf("query job: %d %s", st, out)
	}
	st, out = b.v1do("POST", "job/"+job.ID+"/batch", "application/json", "SELECT Id, Name, Ext__c FROM Account")
	if st != 201 || json.Unmarshal(out, &batch) != nil {
		t.Fatalf("query batch: %d %s", st, out)
	}
	// A nested (parent-to-child) query is refused: Bulk 1.0 query does not
	// run nested SOQL ("Use Bulk Query").
	if st, out := b.v1do("POST", "job/"+job.ID+"/batch", "application/json",
		"SELECT Name, (SELECT LastName FROM Contacts) FROM Account"); st != 400 || !strings.Contains(string(out), "InvalidBatch") {
		t.Errorf("nested query batch: %d %s", st, out)
	}
	b.v1WaitBatch(job.ID, batch.ID, true)
	st, out = b.v1do("GET", "job/"+job.ID+"/batch/"+batch.ID+"/result", "", "")
	var ids []string
	if st != 200 || json.Unmarshal(out, &ids) != nil || len(ids) != 1 || !strings.HasPrefix(ids[0], "752") {
		t.Fatalf("result list: %d %s", st, out)
	}
	st, out = b.v1do("GET", "job/"+job.ID+"/batch/"+batch.ID+"/result/"+ids[0], "", "")
	var recs []map[string]any
	if st != 200 || json.Unmarshal(out, &recs) != nil || len(recs) != 1 || recs[0]["Name"] != "Acme" || recs[0]["attributes"] == nil {
		t.Fatalf("query result: %d %s", st, out)
	}
	// Auth and bad input.
	req, _ := http.NewRequest("GET", b.srv.URL+"/services/async/62.0/job/"+job.ID, nil)
	req.Header.Set("X-SFDC-Session", "bogus")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<exceptionCode>InvalidSessionId</exceptionCode>") {
		t.Fatalf("bad session: %d %s", resp.StatusCode, body)
	}
	if st, out := b.v1do("POST", "job", "application/json", `{"operation":"merge","object":"Lead","contentType":"CSV"}`); st != 400 || !strings.Contains(string(out), "InvalidJob") {
		t.Fatalf("bad operation: %d %s", st, out)
	}
	if st, out := b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Lead","contentType":"XML"}`); st != 400 || !strings.Contains(string(out), "XML") {
		t.Fatalf("XML jobs: %d %s", st, out)
	}
}

// Aborting a Bulk 1.0 job stops its queued batches.
func TestBulkV1Abort(t *testing.T) {
	b := newBulkEnv(t, Config{BulkRecordsPerSecond: 20})
	_, out := b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Lead","contentType":"CSV"}`)
	var job, batch v1Info
	json.Unmarshal(out, &job)
	_, out = b.v1do("POST", "job/"+job.ID+"/batch", "text/csv", leadsCSV(200))
	xml.Unmarshal(out, &batch)
	if st, out := b.v1do("POST", "job/"+job.ID, "application/json", `{"state":"Aborted"}`); st != 200 || !strings.Contains(string(out), `"state":"Aborted"`) {
		t.Fatalf("abort: %d %s", st, out)
	}
	if bi := b.v1WaitBatch(job.ID, batch.ID, false); bi.State != "NotProcessed" {
		t.Fatalf("batch after abort: %+v", bi)
	}
}
