package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Stamping a Contact mapping's External ID on the Contact a Lead became.
// Conversion does not carry the Contact mapping's External ID over, so a
// mapping that upserts by one writes its value on the Contact before it
// binds the record there: its upsert then finds that Contact instead of
// creating a twin. A promotion wave stamps thousands of Contacts: the
// stamps of a batch travel 200 to a Collections update, each record
// keeping its own result, and the source records they need are read in
// one store call (forcesync.SettledReader).

// stamp is one External ID to write: the value mapping cp derives from
// rec, on the Contact Id. stampExternalIDs sets err.
type stamp struct {
	rec *forcesync.SourceRecord
	id  string
	// err is nil once Salesforce took the value; otherwise the record's
	// own error, as a call of its own would have returned it.
	err error
}

// maxStamps is how many records one Collections update takes.
const maxStamps = 200

// stampExternalIDs writes, on each stamp's Contact, the External ID value
// cp would upsert the stamp's record by, up to 200 records a Collections
// update, in order, and sets each stamp's err. A record whose payload
// cannot be built, or whose Contact Id is malformed, is not sent. A call whose content Salesforce refused
// as a whole (HTTP 400, not record by record) is sent again one record a
// call, so that every record gets the answer a call of its own would get;
// any other failure of the call (an outage, a limit) is every record's
// error. A Contact stamped twice goes in two calls, the later value last.
func stampExternalIDs(ctx context.Context, api API, cp *Pipe, stamps []*stamp) {
	obj, ext := cp.Compiled.Object(), cp.Compiled.ExternalIDField()
	var (
		recs   []salesforce.Record
		owners []*stamp
		ids    = map[string]bool{}
	)
	flush := func() {
		if len(recs) > 0 {
			sendStamps(ctx, api, obj, recs, owners)
		}
		recs, owners = recs[:0], owners[:0]
		clear(ids)
	}
	for _, s := range stamps {
		if s.rec == nil {
			s.err = fmt.Errorf("no stored source record")
			continue
		}
		pl, err := cp.Compiled.PayloadFor(s.rec.Key, s.rec.Fields, false)
		if err == nil {
			err = salesforce.CheckID(s.id) // the client would refuse the whole call for it
		}
		if err != nil {
			s.err = err
			continue
		}
		if len(recs) == maxStamps || ids[s.id] {
			flush()
		}
		ids[s.id] = true
		recs = append(recs, salesforce.Record{"attributes": map[string]any{"type": obj}, "Id": s.id, ext: pl.ExternalID})
		owners = append(owners, s)
	}
	flush()
}

// sendStamps sends recs in one Update call and sets the err of their
// owners (recs[i] is owners[i]'s).
func sendStamps(ctx context.Context, api API, obj string, recs []salesforce.Record, owners []*stamp) {
	res, err := api.Update(ctx, obj, recs)
	split := false
	if err == nil && len(res) != len(recs) {
		err, split = fmt.Errorf("update %s: %d results for %d records", obj, len(res), len(recs)), true
	}
	if ae := (*salesforce.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusBadRequest && !ae.Retryable() {
		split = true // a refusal of the request's content, such as one malformed Id
	}
	// Only a refusal of what the call carried is worth a call per record:
	// an outage, a limit or a lost session would refuse each of them too,
	// at up to 200 calls the org pays for.
	if split && len(recs) > 1 {
		for i := range recs {
			sendStamps(ctx, api, obj, recs[i:i+1], owners[i:i+1])
		}
		return
	}
	for i, s := range owners {
		switch {
		case err != nil:
			s.err = err
		case res[i].Err != nil:
			s.err = res[i].Err
		default:
			s.err = nil
		}
	}
}

// readSettled reads keys of source with their state under mapping in one
// read, when store is a forcesync.SettledReader; nil otherwise.
func readSettled(ctx context.Context, store forcesync.Store, source, mapping string, keys []string) (map[string]forcesync.Settled, error) {
	sr, ok := forcesync.StoreAs[forcesync.SettledReader](store)
	if !ok {
		return nil, nil
	}
	return sr.Settled(ctx, source, []string{mapping}, keys)
}

// sourceRecords returns the stored records of keys of source, taken from
// settled (a SettledReader's answer for them) where it holds a live record,
// and read one by one otherwise (no SettledReader, or a record it does not
// hold or holds deleted), so that those keys get the store's own answer,
// error included. errs holds the keys whose read failed.
func sourceRecords(ctx context.Context, store forcesync.Store, source string, keys []string, settled map[string]forcesync.Settled) (recs map[string]*forcesync.SourceRecord, errs map[string]error) {
	recs = make(map[string]*forcesync.SourceRecord, len(keys))
	for _, k := range keys {
		if _, ok := recs[k]; ok {
			continue
		}
		if s, ok := settled[k]; ok && !s.Deleted && s.Fields != "" {
			rec := &forcesync.SourceRecord{Source: source, Key: k, Version: s.Version}
			if err := json.Unmarshal([]byte(s.Fields), &rec.Fields); err == nil {
				recs[k] = rec
				continue
			}
		}
		rec, err := store.SourceRecord(ctx, source, k)
		if err != nil {
			if errs == nil {
				errs = map[string]error{}
			}
			errs[k] = err
			continue
		}
		recs[k] = rec
	}
	return recs, errs
}

// sourceRecordsOf is sourceRecords for the engine's callers, which give up
// on the first failed read (in the order of keys).
func (e *Engine) sourceRecordsOf(ctx context.Context, source string, keys []string, settled map[string]forcesync.Settled) (map[string]*forcesync.SourceRecord, error) {
	recs, errs := sourceRecords(ctx, e.store, source, keys, settled)
	for _, k := range keys {
		if err := errs[k]; err != nil {
			return nil, err
		}
	}
	return recs, nil
}
