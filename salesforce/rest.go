package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Record (declared in bulkcsv.go) is one sObject's fields as JSON values
// (strings, float64, bool, nil, nested maps for relationships). Query and
// Get results carry "attributes" ({"type","url"}).

// ID returns the record's Id field, or else the Id at the end of
// attributes.url (a Get with a field list may leave Id out), or "".
func (r Record) ID() string {
	if s, _ := r["Id"].(string); s != "" {
		return s
	}
	a, _ := r["attributes"].(map[string]any)
	u, _ := a["url"].(string)
	if i := strings.LastIndexByte(u, '/'); i >= 0 && idRE.MatchString(u[i+1:]) {
		return u[i+1:]
	}
	return ""
}

// Type returns attributes.type, or "".
func (r Record) Type() string {
	a, _ := r["attributes"].(map[string]any)
	s, _ := a["type"].(string)
	return s
}

// DateTimeLayout is how Salesforce renders datetimes in JSON.
const DateTimeLayout = "2006-01-02T15:04:05.000-0700"

// ParseDateTime reads a Salesforce datetime ("2024-05-01T12:34:56.000+0000",
// and the RFC 3339 forms Salesforce accepts).
func ParseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{DateTimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("salesforce: %q is not a Salesforce datetime", s)
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	idRE   = regexp.MustCompile(`^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$`)
	// fieldPathRE is a field name or a relationship path (Owner.Name).
	fieldPathRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$`)
)

func checkName(kind, s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("salesforce: invalid %s name %q", kind, s)
	}
	return nil
}

// CheckID reports whether id has the form of a Salesforce record Id (15
// or 18 letters and digits), as the client checks before a call names it.
func CheckID(id string) error { return checkID(id) }

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("salesforce: invalid record Id %q", id)
	}
	return nil
}

// Version is one entry of GET /services/data.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the instance serves, oldest first.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, "/services/data", nil, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// newestVersion picks the highest numbered version.
func newestVersion(vs []Version) string {
	best, bestN := "", -1.0
	for _, v := range vs {
		n, err := strconv.ParseFloat(v.Version, 64)
		if err == nil && n > bestN {
			best, bestN = v.Version, n
		}
	}
	return best
}

// SObjectInfo is one object of describeGlobal.
type SObjectInfo struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	LabelPlural string `json:"labelPlural"`
	KeyPrefix   string `json:"keyPrefix"`
	Custom      bool   `json:"custom"`
	Createable  bool   `json:"createable"`
	Updateable  bool   `json:"updateable"`
	Deletable   bool   `json:"deletable"`
	Queryable   bool   `json:"queryable"`
}

// GlobalDescribe is the answer of GET /sobjects.
type GlobalDescribe struct {
	Encoding     string        `json:"encoding"`
	MaxBatchSize int           `json:"maxBatchSize"`
	SObjects     []SObjectInfo `json:"sobjects"`
}

// DescribeGlobal lists the org's objects.
func (c *Client) DescribeGlobal(ctx context.Context) (*GlobalDescribe, error) {
	var g GlobalDescribe
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, c.DataPath("sobjects"), nil, &g); err != nil {
		return nil, fmt.Errorf("describe global: %w", err)
	}
	return &g, nil
}

// describeCache holds describes per (version, object) and makes concurrent
// first requests for one object share a single call.
type describeCache struct {
	mu     sync.RWMutex
	byKey  map[string]*SObjectDescribe
	flight singleflight.Group
	// lastMod holds the Last-Modified of each describe Redescribe fetched
	// (describe_refresh.go), for its If-Modified-Since.
	lastMod map[string]string
}

// Describe returns the metadata of obj, cached per object and API version
// for the life of the Client (call ForgetDescribe after a schema change).
// The returned value is shared: do not modify it.
func (c *Client) Describe(ctx context.Context, obj string) (*SObjectDescribe, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	key := c.version + "/" + strings.ToLower(obj)
	c.describes.mu.RLock()
	d := c.describes.byKey[key]
	c.describes.mu.RUnlock()
	if d != nil {
		return d, nil
	}
	ch := c.describes.flight.DoChan(key, func() (any, error) {
		var d SObjectDescribe
		// A waiter's cancellation must not fail the others.
		fctx := context.WithoutCancel(ctx)
		if _, err := c.doJSON(fctx, KindREST, http.MethodGet, c.DataPath("sobjects/"+obj+"/describe"), nil, &d); err != nil {
			return nil, err
		}
		c.describes.mu.Lock()
		if c.describes.byKey == nil {
			c.describes.byKey = map[string]*SObjectDescribe{}
		}
		c.describes.byKey[key] = &d
		c.describes.mu.Unlock()
		return &d, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, fmt.Errorf("describe %s: %w", obj, r.Err)
		}
		return r.Val.(*SObjectDescribe), nil
	}
}

// ForgetDescribe drops the cached describe of obj.
func (c *Client) ForgetDescribe(obj string) {
	c.describes.mu.Lock()
	delete(c.describes.byKey, c.version+"/"+strings.ToLower(obj))
	c.describes.mu.Unlock()
}

// SaveResult is the outcome of one record write. For Collections, a
// failed record has Success false and Errors from Salesforce; when its
// whole chunk failed (HTTP error after retries) Err holds that error.
type SaveResult struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Created bool          `json:"created"` // upserts: inserted rather than updated
	Errors  []RecordError `json:"errors"`
	Err     error         `json:"-"`
}

// Error returns nil on success, else the chunk error or the first record
// error (a *RecordError).
func (r *SaveResult) Error() error {
	switch {
	case r.Err != nil:
		return r.Err
	case r.Success:
		return nil
	case len(r.Errors) > 0:
		return &r.Errors[0]
	}
	return &RecordError{StatusCode: "UNKNOWN_ERROR", Message: "record failed without an error"}
}

// Create inserts one record and returns its Id.
func (c *Client) Create(ctx context.Context, obj string, fields Record) (string, error) {
	if err := checkName("object", obj); err != nil {
		return "", err
	}
	var res SaveResult
	if _, err := c.doJSON(ctx, KindREST, http.MethodPost, c.DataPath("sobjects/"+obj), withoutAttributes(fields), &res); err != nil {
		return "", fmt.Errorf("create %s: %w", obj, err)
	}
	if !res.Success {
		return "", fmt.Errorf("create %s: %w", obj, res.Error())
	}
	return res.ID, nil
}

// Get reads one record; with no fields, all of them.
func (c *Client) Get(ctx context.Context, obj, id string, fields ...string) (Record, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	p, err := withFields(c.DataPath("sobjects/"+obj+"/"+id), fields)
	if err != nil {
		return nil, err
	}
	var r Record
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, p, nil, &r); err != nil {
		return nil, fmt.Errorf("get %s %s: %w", obj, id, err)
	}
	return r, nil
}

// GetByExternalID reads the record whose External ID field equals value.
// Several matches give a *MultipleMatchesError.
func (c *Client) GetByExternalID(ctx context.Context, obj, field, value string, fields ...string) (Record, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	if err := checkName("field", field); err != nil {
		return nil, err
	}
	p, err := withFields(c.DataPath("sobjects/"+obj+"/"+field+"/"+url.PathEscape(value)), fields)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, KindREST, http.MethodGet, p, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s by %s: %w", obj, field, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusMultipleChoices {
		return nil, multipleMatches(obj, field, value, resp.Body)
	}
	var r Record
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("get %s by %s: decoding: %w", obj, field, err)
	}
	return r, nil
}

func withFields(p string, fields []string) (string, error) {
	if len(fields) == 0 {
		return p, nil
	}
	for _, f := range fields {
		if !fieldPathRE.MatchString(f) {
			return "", fmt.Errorf("salesforce: invalid field name %q", f)
		}
	}
	return p + "?fields=" + url.QueryEscape(strings.Join(fields, ",")), nil
}

// Update changes the given fields of one record.
func (c *Client) Update(ctx context.Context, obj, id string, fields Record) error {
	if err := checkName("object", obj); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	body := withoutKeys(withoutAttributes(fields), "Id")
	if _, err := c.doJSON(ctx, KindREST, http.MethodPatch, c.DataPath("sobjects/"+obj+"/"+id), body, nil); err != nil {
		return fmt.Errorf("update %s %s: %w", obj, id, err)
	}
	return nil
}

// Delete deletes one record.
func (c *Client) Delete(ctx context.Context, obj, id string) error {
	if err := checkName("object", obj); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	if _, err := c.doJSON(ctx, KindREST, http.MethodDelete, c.DataPath("sobjects/"+obj+"/"+id), nil, nil); err != nil {
		return fmt.Errorf("delete %s %s: %w", obj, id, err)
	}
	return nil
}

// UpsertResult tells whether an upsert inserted or updated, and the Id.
type UpsertResult struct {
	ID      string
	Created bool
}

// Upsert inserts or updates the record whose External ID field extField
// equals value (PATCH sobjects/{obj}/{extField}/{value}). The body never
// carries the External ID field or Id (Salesforce refuses them). Several
// matching records give a *MultipleMatchesError listing their Ids.
// Upsert is idempotent, so it is retried on transient failures.
func (c *Client) Upsert(ctx context.Context, obj, extField, value string, fields Record) (UpsertResult, error) {
	if err := checkName("object", obj); err != nil {
		return UpsertResult{}, err
	}
	if err := checkName("field", extField); err != nil {
		return UpsertResult{}, err
	}
	if value == "" {
		return UpsertResult{}, fmt.Errorf("upsert %s: empty %s value", obj, extField)
	}
	b, err := json.Marshal(withoutKeys(withoutAttributes(fields), "Id", extField))
	if err != nil {
		return UpsertResult{}, fmt.Errorf("upsert %s: %w", obj, err)
	}
	p := c.DataPath("sobjects/" + obj + "/" + extField + "/" + url.PathEscape(value))
	resp, err := c.Do(ctx, KindREST, http.MethodPatch, p, bytes.NewReader(b), nil)
	if err != nil {
		return UpsertResult{}, fmt.Errorf("upsert %s %s=%q: %w", obj, extField, value, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusMultipleChoices:
		return UpsertResult{}, multipleMatches(obj, extField, value, resp.Body)
	case http.StatusNoContent: // before v46: an update, no body
		return UpsertResult{}, nil
	}
	var res SaveResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return UpsertResult{}, fmt.Errorf("upsert %s: decoding: %w", obj, err)
	}
	if len(res.Errors) > 0 && !res.Success {
		return UpsertResult{}, fmt.Errorf("upsert %s: %w", obj, res.Error())
	}
	return UpsertResult{ID: res.ID, Created: resp.StatusCode == http.StatusCreated}, nil
}

// multipleMatches reads a 300 body: a JSON array of record URLs.
func multipleMatches(obj, field, value string, body io.Reader) error {
	var urls []string
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	if err := json.Unmarshal(b, &urls); err != nil {
		return &APIError{Status: http.StatusMultipleChoices, Body: snippet(b, 512),
			Message: "several records match, and the answer did not list them"}
	}
	e := &MultipleMatchesError{Object: obj, Field: field, Value: value, URLs: urls}
	for _, u := range urls {
		e.IDs = append(e.IDs, u[strings.LastIndexByte(u, '/')+1:])
	}
	return e
}

// withoutAttributes drops the "attributes" key a queried record carries.
func withoutAttributes(r Record) Record {
	return withoutKeys(r, "attributes")
}

// withoutKeys returns r without the named keys (case-insensitive), copying
// only when something must go.
func withoutKeys(r Record, keys ...string) Record {
	drop := false
	for k := range r {
		for _, x := range keys {
			if strings.EqualFold(k, x) {
				drop = true
			}
		}
	}
	if !drop {
		if r == nil {
			return Record{}
		}
		return r
	}
	out := make(Record, len(r))
	for k, v := range r {
		keep := true
		for _, x := range keys {
			if strings.EqualFold(k, x) {
				keep = false
			}
		}
		if keep {
			out[k] = v
		}
	}
	return out
}

// UpdatedResult is the answer of getUpdated.
type UpdatedResult struct {
	IDs               []string  `json:"ids"`
	LatestDateCovered time.Time `json:"-"`
}

// DeletedRecord is one entry of getDeleted.
type DeletedRecord struct {
	ID          string    `json:"id"`
	DeletedDate time.Time `json:"-"`
}

// DeletedResult is the answer of getDeleted. When EarliestDateAvailable is
// after the requested start, deletes were purged and a full resync is
// needed.
type DeletedResult struct {
	Records               []DeletedRecord
	EarliestDateAvailable time.Time
	LatestDateCovered     time.Time
}

// replicationRange formats start/end (UTC, whole seconds) for getUpdated
// and getDeleted.
func replicationRange(start, end time.Time) string {
	v := url.Values{
		"start": {start.UTC().Format("2006-01-02T15:04:05Z07:00")},
		"end":   {end.UTC().Format("2006-01-02T15:04:05Z07:00")},
	}
	return v.Encode()
}

// GetUpdated lists Ids of obj records changed between start and end
// (Salesforce covers at most 30 days back, to the minute).
func (c *Client) GetUpdated(ctx context.Context, obj string, start, end time.Time) (*UpdatedResult, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	var raw struct {
		IDs    []string `json:"ids"`
		Latest string   `json:"latestDateCovered"`
	}
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, c.DataPath("sobjects/"+obj+"/updated/")+"?"+replicationRange(start, end), nil, &raw); err != nil {
		return nil, fmt.Errorf("getUpdated %s: %w", obj, err)
	}
	res := &UpdatedResult{IDs: raw.IDs}
	if raw.Latest != "" {
		t, err := ParseDateTime(raw.Latest)
		if err != nil {
			return nil, fmt.Errorf("getUpdated %s: %w", obj, err)
		}
		res.LatestDateCovered = t
	}
	return res, nil
}

// GetDeleted lists obj records deleted between start and end (at most 15
// days back).
func (c *Client) GetDeleted(ctx context.Context, obj string, start, end time.Time) (*DeletedResult, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	var raw struct {
		Deleted []struct {
			ID   string `json:"id"`
			Date string `json:"deletedDate"`
		} `json:"deletedRecords"`
		Earliest string `json:"earliestDateAvailable"`
		Latest   string `json:"latestDateCovered"`
	}
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, c.DataPath("sobjects/"+obj+"/deleted/")+"?"+replicationRange(start, end), nil, &raw); err != nil {
		return nil, fmt.Errorf("getDeleted %s: %w", obj, err)
	}
	res := &DeletedResult{}
	for _, d := range raw.Deleted {
		t, err := ParseDateTime(d.Date)
		if err != nil {
			return nil, fmt.Errorf("getDeleted %s: %w", obj, err)
		}
		res.Records = append(res.Records, DeletedRecord{ID: d.ID, DeletedDate: t})
	}
	for _, p := range []struct {
		s string
		t *time.Time
	}{{raw.Earliest, &res.EarliestDateAvailable}, {raw.Latest, &res.LatestDateCovered}} {
		if p.s == "" {
			continue
		}
		t, err := ParseDateTime(p.s)
		if err != nil {
			return nil, fmt.Errorf("getDeleted %s: %w", obj, err)
		}
		*p.t = t
	}
	return res, nil
}

// Limit is one entry of GET /limits.
type Limit struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// Limits returns the org's limits by name (DailyApiRequests, ...). Values
// are a few minutes stale; Sforce-Limit-Info is fresher for API usage.
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var raw map[string]json.RawMessage
	if _, err := c.doJSON(ctx, KindREST, http.MethodGet, c.DataPath("limits"), nil, &raw); err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	out := make(map[string]Limit, len(raw))
	for k, v := range raw {
		var l Limit
		if json.Unmarshal(v, &l) == nil {
			out[k] = l
		}
	}
	return out, nil
}
