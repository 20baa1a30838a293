package engine

import (
	"context"

	"github.com/forcesync/forcesync"
)

// pushDeletes deletes the twins of deleted source records.
func (e *Engine) pushDeletes(ctx context.Context, p *Pipe, ws []*work) error {
	var dels []*work
	for _, w := range ws {
		if !w.done && w.remove {
			dels = append(dels, w)
		}
	}
	for lo := 0; lo < len(dels); lo += 200 {
		chunk := dels[lo:min(lo+200, len(dels))]
		ids := make([]string, len(chunk))
		for i, w := range chunk {
			ids[i] = w.item.Binding.SalesforceID
		}
		res, err := e.api.Delete(ctx, ids)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			r := res[i]
			if r.Err != nil && (r.Err.Code == "ENTITY_IS_DELETED" || r.Err.Code == "NOT_FOUND" || r.Err.Code == "INVALID_CROSS_REFERENCE_KEY") {
				r.Err = nil // already gone: the goal is met
			}
			if r.Err == nil {
				w.out.Unbind = true
				w.out.SalesforceID = ids[i]
				w.out.Fingerprint = ""
				w.finish(forcesync.StateDeleted, nil)
				continue
			}
			e.settle(w, r, false)
		}
	}
	return nil
}
