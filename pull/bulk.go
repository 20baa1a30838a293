package pull

import (
	"context"
	"encoding/json"
	"iter"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// BulkQuerier is what a first load through Bulk API 2.0 needs;
// *salesforce.Client implements it. A Querier without it always pages.
type BulkQuerier interface {
	Bulk(cfg salesforce.BulkConfig) *salesforce.Bulk
}

// firstLoad decides how the first pull of an object reads it: the query
// already started (its first page gave the size) when the object is small,
// a Bulk API 2.0 query job of the same SOQL otherwise. The job's rows come
// in the same order (SystemModstamp, Id) and are committed in the same
// batches with the watermark, so a restart resumes where it stopped.
func (p *Puller) firstLoad(ctx context.Context, rows *salesforce.Rows, wm forcesync.Watermark, calls *int) (iter.Seq2[salesforce.Record, error], error) {
	bq, ok := p.cfg.Querier.(BulkQuerier)
	if !ok {
		return rows.All(), nil
	}
	if !rows.Next() {
		return rows.All(), rows.Err() // empty, or the error
	}
	first := rows.Record()
	if rows.TotalSize() < p.cfg.BulkThreshold {
		return func(yield func(salesforce.Record, error) bool) {
			if !yield(first, nil) {
				return
			}
			for r, err := range rows.All() {
				if !yield(r, err) {
					return
				}
			}
		}, nil
	}
	soql, err := p.reader.sinceSOQL(wm)
	if err != nil {
		return nil, err
	}
	p.cfg.Logger.Info("first load through Bulk API 2.0", "mapping", p.cfg.Mapping.Name, "records", rows.TotalSize())
	b := bq.Bulk(salesforce.BulkConfig{})
	// A query job costs a create, its polls and a call per result page;
	// counted as the least it takes (create, one poll, one page).
	*calls = 3
	return func(yield func(salesforce.Record, error) bool) {
		for row, err := range b.Query(ctx, soql, salesforce.QueryJobOptions{All: p.reader.deletes}) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(p.reader.fromCSV(row), nil) {
				return
			}
		}
	}, nil
}

// fromCSV turns a Bulk query row (text cells, empty for null) into a
// record as the REST query gives it: booleans and numbers typed by the
// describe.
func (r *Reader) fromCSV(row salesforce.Row) salesforce.Record {
	rec := salesforce.Record{}
	for name, v := range row.Map() {
		f := r.d.Field(name)
		if f == nil {
			continue
		}
		if v == "" {
			rec[f.Name] = nil
			continue
		}
		switch f.Type {
		case "boolean":
			rec[f.Name] = strings.EqualFold(v, "true")
		case "double", "currency", "percent", "int", "long":
			rec[f.Name] = json.Number(v)
		default:
			rec[f.Name] = v
		}
	}
	return rec
}
