package engine

import (
	"context"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// pushUpserts sends External ID upserts, through Collections or Bulk.
func (e *Engine) pushUpserts(ctx context.Context, p *Pipe, ws []*work, useBulk bool, size int) error {
	c := p.Compiled
	ext := c.ExternalIDField()
	var todo []*work
	for _, w := range ws {
		if w.done || w.life {
			continue
		}
		bound := w.item.Binding != nil && w.item.Binding.SalesforceID != ""
		if !bound && !c.CanCreate() {
			// Update only: update the bound twin or leave it.
			w.finish(forcesync.StateSkipped, nil)
			continue
		}
		todo = append(todo, w)
	}
	todo, err := e.holdCollisions(ctx, p, todo)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	if useBulk {
		recs := make([]salesforce.Record, len(todo))
		fieldSet := map[string]bool{}
		var fields []string
		for i, w := range todo {
			recs[i] = salesforce.Record(w.payload.Fields)
			for k := range w.payload.Fields {
				if !fieldSet[k] {
					fieldSet[k] = true
					fields = append(fields, k)
				}
			}
			w.payload.Fields = nil // recs holds it until it is sent
		}
		res, err := e.bulkUpsert(ctx, p, c.Object(), ext, fields, recs) // bulkjobs.go
		if err != nil {
			return err
		}
		for _, w := range todo {
			r, ok := res[w.payload.ExternalID]
			if !ok {
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "UNPROCESSED", Message: "Bulk job did not process the record"})
				continue
			}
			e.settle(w, r, r.Created)
		}
		return nil
	}
	for lo := 0; lo < len(todo); lo += size {
		chunk := todo[lo:min(lo+size, len(todo))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			recs[i] = salesforce.Record(copyMap(w.payload.Fields))
		}
		res, err := e.api.Upsert(ctx, c.Object(), ext, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			e.settle(w, res[i], res[i].Created)
		}
	}
	return nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
