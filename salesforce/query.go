package salesforce

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// QueryOptions tune a query. The zero value asks Salesforce's default
// page size (2,000).
type QueryOptions struct {
	// BatchSize asks for pages of this many records (Sforce-Query-Options:
	// batchSize=N), clamped to 200..2000. Salesforce may send fewer.
	BatchSize int
}

// Rows iterates over a query's records page by page, following
// nextRecordsUrl; only one page is held at a time. It is not safe for
// concurrent use.
//
//	rows := client.Query(ctx, soql, nil)
//	for rows.Next() { use(rows.Record()) }
//	if err := rows.Err(); err != nil { ... }
type Rows struct {
	c      *Client
	ctx    context.Context
	header http.Header
	path   string // the next page to fetch; empty when none is left
	page   []Record
	i      int
	rec    Record
	total  int
	pages  int
	err    error
}

// Query runs SOQL and returns an iterator over its records.
func (c *Client) Query(ctx context.Context, soql string, opt *QueryOptions) *Rows {
	return c.newRows(ctx, "query", soql, opt)
}

// QueryAll is Query including deleted and archived records (IsDeleted).
func (c *Client) QueryAll(ctx context.Context, soql string, opt *QueryOptions) *Rows {
	return c.newRows(ctx, "queryAll", soql, opt)
}

func (c *Client) newRows(ctx context.Context, resource, soql string, opt *QueryOptions) *Rows {
	r := &Rows{c: c, ctx: ctx, path: c.DataPath(resource) + "?q=" + url.QueryEscape(soql)}
	if opt != nil && opt.BatchSize > 0 {
		n := min(max(opt.BatchSize, 200), 2000)
		r.header = http.Header{"Sforce-Query-Options": {"batchSize=" + strconv.Itoa(n)}}
	}
	return r
}

// Next advances to the next record, fetching the next page when needed.
func (r *Rows) Next() bool {
	for r.err == nil {
		if r.i < len(r.page) {
			r.rec = r.page[r.i]
			r.page[r.i] = nil // let the consumer's copy be the only one
			r.i++
			return true
		}
		if r.path == "" {
			r.rec = nil
			return false
		}
		r.fetch()
	}
	r.rec = nil
	return false
}

func (r *Rows) fetch() {
	var page struct {
		TotalSize      int      `json:"totalSize"`
		Done           bool     `json:"done"`
		NextRecordsURL string   `json:"nextRecordsUrl"`
		Records        []Record `json:"records"`
	}
	r.pages++
	if _, err := r.c.doJSONHeader(r.ctx, KindQuery, http.MethodGet, r.path, r.header, nil, &page); err != nil {
		r.err = fmt.Errorf("query: %w", err)
		return
	}
	r.total = page.TotalSize
	r.page, r.i = page.Records, 0
	r.path = ""
	if !page.Done {
		if page.NextRecordsURL == "" {
			r.err = fmt.Errorf("query: page not done but has no nextRecordsUrl")
			return
		}
		r.path = page.NextRecordsURL
	}
}

// Record returns the current record.
func (r *Rows) Record() Record { return r.rec }

// Err returns the error that stopped the iteration, if any.
func (r *Rows) Err() error { return r.err }

// Pages is how many pages (API calls) the iteration fetched so far.
func (r *Rows) Pages() int { return r.pages }

// TotalSize is the query's total record count, known after the first page.
func (r *Rows) TotalSize() int { return r.total }

// All returns the records as a range-over-func sequence. An error is
// yielded once, with a nil record, and ends the sequence.
func (r *Rows) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for r.Next() {
			if !yield(r.rec, nil) {
				return
			}
		}
		if r.err != nil {
			yield(nil, r.err)
		}
	}
}

// QueryRecords runs SOQL and collects every record; for small results.
func (c *Client) QueryRecords(ctx context.Context, soql string) ([]Record, error) {
	var out []Record
	rows := c.Query(ctx, soql, nil)
	for rows.Next() {
		out = append(out, rows.Record())
	}
	return out, rows.Err()
}
