package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/sync/errgroup"
)

// MaxCollectionSize is the most records one sObject Collections call takes.
const MaxCollectionSize = 200

// CollectionOptions tune the Collections calls. The zero value sends chunks
// of 200 one after another with allOrNone false.
type CollectionOptions struct {
	// AllOrNone rolls back a whole chunk when one of its records fails.
	// Atomicity is per chunk (per HTTP call): Salesforce cannot roll back an
	// earlier call, so with more than ChunkSize records earlier chunks stay
	// committed.
	AllOrNone bool
	// ChunkSize is records per call, 1..200. 0 means 200.
	ChunkSize int
	// Concurrency is how many chunks are in flight at once. 0 or 1 means
	// one at a time. Concurrent chunks may contend for row locks
	// (UNABLE_TO_LOCK_ROW) on shared parents.
	Concurrency int
}

func (o *CollectionOptions) chunk() int {
	if o == nil || o.ChunkSize <= 0 || o.ChunkSize > MaxCollectionSize {
		return MaxCollectionSize
	}
	return o.ChunkSize
}

// CreateMany inserts records of obj (any number, chunked). Results align
// with records: results[i] is records[i]'s outcome. The error is non-nil
// when a chunk failed as a whole (its records carry it in SaveResult.Err);
// per-record failures are only in the results.
func (c *Client) CreateMany(ctx context.Context, obj string, records []Record, opt *CollectionOptions) ([]SaveResult, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	for i, r := range records {
		if _, ok := r["Id"]; ok {
			return nil, fmt.Errorf("create %s: record %d carries an Id", obj, i)
		}
	}
	return c.collection(ctx, http.MethodPost, c.DataPath("composite/sobjects"), obj, "", records, opt)
}

// UpdateMany updates records of obj; each needs its Id.
func (c *Client) UpdateMany(ctx context.Context, obj string, records []Record, opt *CollectionOptions) ([]SaveResult, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	for i, r := range records {
		if err := checkID(r.ID()); err != nil {
			return nil, fmt.Errorf("update %s: record %d: %w", obj, i, err)
		}
	}
	return c.collection(ctx, http.MethodPatch, c.DataPath("composite/sobjects"), obj, "", records, opt)
}

// UpsertMany upserts records of obj by the External ID field extField,
// which every record must carry. SaveResult.Created tells inserts from
// updates. Upserts are idempotent, so failed chunks are retried.
func (c *Client) UpsertMany(ctx context.Context, obj, extField string, records []Record, opt *CollectionOptions) ([]SaveResult, error) {
	if err := checkName("object", obj); err != nil {
		return nil, err
	}
	if err := checkName("field", extField); err != nil {
		return nil, err
	}
	for i, r := range records {
		if v, ok := r[extField]; !ok || v == nil || v == "" {
			return nil, fmt.Errorf("upsert %s: record %d has no %s", obj, i, extField)
		}
	}
	return c.collection(ctx, http.MethodPatch, c.DataPath("composite/sobjects/"+obj+"/"+extField), obj, extField, records, opt)
}

// DeleteMany deletes records by Id (any number, chunked).
func (c *Client) DeleteMany(ctx context.Context, ids []string, opt *CollectionOptions) ([]SaveResult, error) {
	for _, id := range ids {
		if err := checkID(id); err != nil {
			return nil, fmt.Errorf("delete: %w", err)
		}
	}
	allOrNone := opt != nil && opt.AllOrNone
	return c.chunked(ctx, len(ids), opt, func(ctx context.Context, lo, hi int) ([]SaveResult, error) {
		q := url.Values{"ids": {strings.Join(ids[lo:hi], ",")}, "allOrNone": {fmt.Sprint(allOrNone)}}
		var res []SaveResult
		if _, err := c.doJSON(ctx, KindCollections, http.MethodDelete, c.DataPath("composite/sobjects")+"?"+q.Encode(), nil, &res); err != nil {
			return nil, err
		}
		return res, nil
	})
}

// collection sends records in chunks to one Collections endpoint.
func (c *Client) collection(ctx context.Context, method, path, obj, extField string, records []Record, opt *CollectionOptions) ([]SaveResult, error) {
	allOrNone := opt != nil && opt.AllOrNone
	return c.chunked(ctx, len(records), opt, func(ctx context.Context, lo, hi int) ([]SaveResult, error) {
		body, err := encodeCollection(obj, allOrNone, records[lo:hi])
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(ctx, KindCollections, method, path, bytes.NewReader(body), nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		res := make([]SaveResult, 0, hi-lo)
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			return nil, fmt.Errorf("salesforce: decoding collection results: %w", err)
		}
		return res, nil
	})
}

// chunked runs call over [lo,hi) windows of n items and assembles results
// in input order.
func (c *Client) chunked(ctx context.Context, n int, opt *CollectionOptions, call func(ctx context.Context, lo, hi int) ([]SaveResult, error)) ([]SaveResult, error) {
	size := opt.chunk()
	results := make([]SaveResult, n)
	errs := make([]error, (n+size-1)/size)
	g, gctx := errgroup.WithContext(ctx)
	limit := 1
	if opt != nil && opt.Concurrency > 1 {
		limit = opt.Concurrency
	}
	g.SetLimit(limit)
	for k, lo := 0, 0; lo < n; k, lo = k+1, lo+size {
		hi := min(lo+size, n)
		g.Go(func() error {
			res, err := call(gctx, lo, hi)
			if err == nil && len(res) != hi-lo {
				err = fmt.Errorf("salesforce: collection answered %d results for %d records", len(res), hi-lo)
			}
			if err != nil {
				for i := lo; i < hi; i++ {
					results[i] = SaveResult{Err: err}
				}
				errs[k] = err
				// Later chunks still run: one chunk's failure says nothing
				// about the others, and the caller gets every outcome. Only
				// the caller's own cancellation stops the rest.
				return nil
			}
			copy(results[lo:hi], res)
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		for i := range results {
			if !results[i].Success && results[i].Err == nil && len(results[i].Errors) == 0 {
				results[i].Err = err
			}
		}
		return results, err
	}
	return results, errors.Join(errs...)
}

// encodeCollection writes {"allOrNone":..,"records":[{"attributes":{"type":obj},...}]}.
// Each record is marshalled once (map keys sorted, so bodies are stable) and
// spliced after the attributes.
func encodeCollection(obj string, allOrNone bool, records []Record) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(records) * 128)
	fmt.Fprintf(&b, `{"allOrNone":%t,"records":[`, allOrNone)
	attrs := `{"attributes":{"type":` + jsonString(obj) + `}`
	for i, r := range records {
		if i > 0 {
			b.WriteByte(',')
		}
		body, err := json.Marshal(withoutAttributes(r))
		if err != nil {
			return nil, fmt.Errorf("salesforce: encoding record %d: %w", i, err)
		}
		b.WriteString(attrs)
		if len(body) > 2 { // more than {}
			b.WriteByte(',')
			b.Write(body[1:])
		} else {
			b.WriteByte('}')
		}
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
