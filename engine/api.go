package engine

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// API is what the engine needs of Salesforce. *SalesforceAPI implements it
// over the client; tests may fake it.
type API interface {
	Describe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, error)
	// Upsert, Create, Update and Delete take at most 200 records (one
	// Collections call) and return one Result per record, in order.
	Upsert(ctx context.Context, obj, extField string, recs []salesforce.Record) ([]Result, error)
	Create(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error)
	Update(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error)
	Delete(ctx context.Context, ids []string) ([]Result, error)
	// FindBy returns the Ids of obj's records whose field equals one of
	// values, keyed by the value as Salesforce holds it.
	FindBy(ctx context.Context, obj, field string, values []string) (map[string][]string, error)
	// BulkUpsert upserts any number of records through Bulk API 2.0 and
	// returns results keyed by External ID value. It may clear recs as it
	// sends them.
	BulkUpsert(ctx context.Context, obj, extField string, fields []string, recs []salesforce.Record) (map[string]Result, error)
	// Usage is the org's last known API usage (used, max), 0/0 if unknown.
	Usage() (used, max int)
	// Calls is the number of API calls made so far.
	Calls() int64
}

// Result is the outcome of one record in a call.
type Result struct {
	ID      string
	Created bool
	// Err is the record's error; nil on success.
	Err *forcesync.RecordError
	// Retryable marks a transient error (lock, timeout, 5xx).
	Retryable bool
}

// SalesforceAPI adapts *salesforce.Client to API. To count calls, build the
// client with salesforce.Hooks{OnCall: api.CountCall} and then set Client
// (cmd/forcesync's connect does this).
type SalesforceAPI struct {
	Client *salesforce.Client
	calls  atomic.Int64
}

// CountCall is meant for salesforce.Hooks.OnCall: it counts every API call.
func (a *SalesforceAPI) CountCall(salesforce.CallInfo) { a.calls.Add(1) }

// Calls implements API.
func (a *SalesforceAPI) Calls() int64 { return a.calls.Load() }

// Describe implements API.
func (a *SalesforceAPI) Describe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, error) {
	return a.Client.Describe(ctx, obj)
}

// Usage implements API.
func (a *SalesforceAPI) Usage() (int, int) {
	li := a.Client.LastLimitInfo()
	return li.Used, li.Max
}

func toResults(rs []salesforce.SaveResult, err error, n int) ([]Result, error) {
	if err != nil && len(rs) != n {
		return nil, err
	}
	out := make([]Result, len(rs))
	for i := range rs {
		r := &rs[i]
		out[i] = Result{ID: r.ID, Created: r.Created}
		if e := r.Error(); e != nil {
			out[i].Err, out[i].Retryable = recordError(e)
		}
	}
	return out, nil
}

// codeInterrupted marks records whose call was cut short by forcesync's own
// context. Salesforce may or may not have applied them; the next attempt
// (an upsert, or a create resolved through its intent) settles which.
const codeInterrupted = "INTERRUPTED"

// recordError turns a client error into the domain's record error and says
// whether it is transient. The org's daily limit (REQUEST_LIMIT_EXCEEDED)
// and login failures are transient here although the client does not retry
// them within seconds.
func recordError(err error) (*forcesync.RecordError, bool) {
	re, retry := recordErrorOf(err)
	if re.Code == salesforce.CodeRequestLimitExceeded || strings.HasPrefix(re.Code, authPrefix) {
		// Not the record's fault: the budget governor waits out the daily
		// limit; a failed login is the connection's (Health reports it),
		// and the records wait for a new login rather than being held.
		retry = true
	}
	return re, retry
}

// authPrefix starts the codes of login failures (AUTH_INVALID_GRANT).
const authPrefix = "AUTH_"

func recordErrorOf(err error) (*forcesync.RecordError, bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// forcesync stopped waiting (shutdown, an interrupted push), not
		// Salesforce refusing: the record is due again at once.
		return &forcesync.RecordError{Code: codeInterrupted, Message: "interrupted before Salesforce answered: " + err.Error()}, true
	}
	var re *salesforce.RecordError
	if errors.As(err, &re) {
		return &forcesync.RecordError{Code: re.StatusCode, Message: re.Message, Fields: re.Fields}, re.Retryable()
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return &forcesync.RecordError{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}, ae.Retryable()
	}
	var au *salesforce.AuthError
	if errors.As(err, &au) {
		return &forcesync.RecordError{Code: authPrefix + strings.ToUpper(au.Code), Message: au.Error()}, au.Retryable()
	}
	return &forcesync.RecordError{Code: "TRANSPORT_ERROR", Message: err.Error()}, salesforce.Retryable(err)
}

// Upsert implements API.
func (a *SalesforceAPI) Upsert(ctx context.Context, obj, extField string, recs []salesforce.Record) ([]Result, error) {
	for _, r := range recs {
		r["attributes"] = map[string]any{"type": obj}
	}
	rs, err := a.Client.UpsertMany(ctx, obj, extField, recs, nil)
	return toResults(rs, err, len(recs))
}

// Create implements API.
func (a *SalesforceAPI) Create(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error) {
	rs, err := a.Client.CreateMany(ctx, obj, recs, nil)
	return toResults(rs, err, len(recs))
}

// Update implements API.
func (a *SalesforceAPI) Update(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error) {
	rs, err := a.Client.UpdateMany(ctx, obj, recs, nil)
	return toResults(rs, err, len(recs))
}

// Delete implements API.
func (a *SalesforceAPI) Delete(ctx context.Context, ids []string) ([]Result, error) {
	rs, err := a.Client.DeleteMany(ctx, ids, nil)
	return toResults(rs, err, len(ids))
}

// FindBy implements API. The query is built from names checked against the
// describe and literals escaped by the SOQL rules, so no value can change
// its shape.
func (a *SalesforceAPI) FindBy(ctx context.Context, obj, field string, values []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(values) == 0 {
		return out, nil
	}
	d, err := a.Client.Describe(ctx, obj)
	if err != nil {
		return nil, err
	}
	f := d.Field(field)
	if f == nil {
		return nil, fmt.Errorf("find %s by %s: no such field", obj, field)
	}
	// A query travels in the URL, which Salesforce caps (about 16 KB, 414
	// beyond): long match values go in several queries.
	for _, chunk := range chunkByURLLen(values, maxInURLBytes) {
		where := salesforce.In(f.Name, chunk...)
		if d.Field("IsConverted") != nil && d.Name == "Lead" {
			// A converted Lead cannot be updated: a new record matching one
			// gets a Lead of its own (lifecycle: Salesforce's limits).
			where = salesforce.And(where, salesforce.Eq("IsConverted", false))
		}
		q, err := salesforce.Select("Id", f.Name).From(d.Name).Where(where).OrderBy("CreatedDate", "Id").Build(d)
		if err != nil {
			return nil, fmt.Errorf("find %s by %s: %w", obj, field, err)
		}
		rows := a.Client.Query(ctx, q, nil)
		for rows.Next() {
			r := rows.Record()
			v, _ := r[f.Name].(string)
			out[strings.ToLower(v)] = append(out[strings.ToLower(v)], r.ID())
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxInURLBytes bounds the URL-encoded values of one query by values
// (FindBy, Lookup, ReadWhere, bind), leaving room under Salesforce's URI
// limit for the rest of the query and the path.
const maxInURLBytes = 12 << 10

// inBudget is the URL bytes left for the IN values of a query selecting
// sel from obj by field: maxInURLBytes less the rest of the query, and at
// least a quarter of it (a select list that long is a query of its own).
func inBudget(sel []string, obj, field string) int {
	rest := len(url.QueryEscape(strings.Join(sel, ", "))) + len(obj) + len(field)
	return max(maxInURLBytes-rest, maxInURLBytes/4)
}

// chunkByURLLen splits values so that each chunk's values, quoted, escaped
// and comma-separated as in an IN list, take at most max bytes of a URL. A
// single longer value gets a chunk of its own.
func chunkByURLLen(values []string, max int) [][]string {
	var out [][]string
	start, n := 0, 0
	for i, v := range values {
		l := len(url.QueryEscape(v)) + 9 // quotes, comma, escapes of quotes or backslashes
		if i > start && n+l > max {
			out = append(out, values[start:i])
			start, n = i, 0
		}
		n += l
	}
	return append(out, values[start:])
}

// BulkUpsert implements API.
func (a *SalesforceAPI) BulkUpsert(ctx context.Context, obj, extField string, fields []string, recs []salesforce.Record) (map[string]Result, error) {
	seq := iter.Seq2[salesforce.Record, error](func(yield func(salesforce.Record, error) bool) {
		for i, r := range recs {
			if !yield(r, nil) {
				return
			}
			recs[i] = nil // sent: a large job's records go as the upload proceeds
		}
	})
	return a.BulkUpsertSeq(ctx, obj, extField, fields, seq)
}

// BulkUpsertSeq implements StreamBulk (filejob.go): BulkUpsert with the
// records read from seq as the upload proceeds.
func (a *SalesforceAPI) BulkUpsertSeq(ctx context.Context, obj, extField string, fields []string, seq iter.Seq2[salesforce.Record, error]) (map[string]Result, error) {
	b := a.Client.Bulk(salesforce.BulkConfig{OnJob: bulkJobHook(ctx)}) // bulkjobs.go
	job := salesforce.IngestJob{Object: obj, Operation: salesforce.BulkUpsert, ExternalIDField: extField}
	res, err := b.IngestRecords(ctx, job, fields, seq)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Result, res.Uploaded)
	ids := res.JobIDs()
	for s, err := range b.SuccessfulResults(ctx, ids...) {
		if err != nil {
			return out, err
		}
		v, _ := s.Row.Get(extField)
		out[v] = Result{ID: s.ID, Created: s.Created}
	}
	if res.Failed() == 0 {
		// Nothing failed: the failed-results file is empty, skip its call.
		return out, nil
	}
	for f, err := range b.FailedResults(ctx, ids...) {
		if err != nil {
			return out, err
		}
		v, _ := f.Row.Get(extField)
		re, retry := recordError(f.Error)
		out[v] = Result{ID: f.ID, Err: re, Retryable: retry}
	}
	return out, nil
}

// LimitsReader is an optional capability of an API: reading the org's
// daily API usage from /limits, for the governor's re-checks while paused.
type LimitsReader interface {
	DailyAPIUsage(ctx context.Context) (used, max int, err error)
}

// DailyAPIUsage implements LimitsReader. When the allowance is spent,
// Salesforce refuses /limits too (403 REQUEST_LIMIT_EXCEEDED) but still
// reports the usage in Sforce-Limit-Info, which is returned then.
func (a *SalesforceAPI) DailyAPIUsage(ctx context.Context) (int, int, error) {
	ls, err := a.Client.Limits(ctx)
	if err != nil {
		var ae *salesforce.APIError
		if errors.As(err, &ae) && ae.Code == "REQUEST_LIMIT_EXCEEDED" {
			if li := a.Client.LastLimitInfo(); li.Max > 0 {
				return li.Used, li.Max, nil
			}
		}
		return 0, 0, err
	}
	d, ok := ls["DailyApiRequests"]
	if !ok || d.Max <= 0 {
		return 0, 0, errors.New("limits: DailyApiRequests missing")
	}
	return d.Max - d.Remaining, d.Max, nil
}
