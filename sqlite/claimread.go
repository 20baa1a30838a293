package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
)

// claimRangeMin is the smallest claim claimRead reads by key ranges;
// smaller claims (realtime work, a Collections batch) read with one
// lookup join. See BenchmarkClaim.
const claimRangeMin = 1000

// claimRead reads the leased rows of keys with their records, bindings,
// intents and statuses, in the order of keys.
func (s *Store) claimRead(ctx context.Context, mapping string, keys []string) ([]forcesync.WorkItem, error) {
	if len(keys) < claimRangeMin {
		return s.claimLookups(ctx, mapping, keys)
	}
	return s.claimRanges(ctx, mapping, keys)
}

// claimLookups reads the rows of keys with one join driven by the keys:
// five b-tree lookups per key.
func (s *Store) claimLookups(ctx context.Context, mapping string, keys []string) ([]forcesync.WorkItem, error) {
	doc, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	rows, err := s.cr.QueryContext(ctx, `SELECT o.key, o.source, o.priority, o.seq, o.attempts, o.forced, o.enqueued,
			r.version, r.op, r.fields,
			COALESCE(b.sf_id, ''), COALESCE(b.fingerprint, ''), COALESCE(b.modstamp, 0), COALESCE(b.updated, 0), b.key IS NOT NULL,
			COALESCE(i.match, ''), COALESCE(i.at, 0), i.key IS NOT NULL,
			COALESCE(st.held_fp, '')
		FROM json_each(?) k
		CROSS JOIN outbox o ON o.mapping = ? AND o.key = k.value -- CROSS: the keys drive the join
		JOIN source_records r ON r.source = o.source AND r.key = o.key
		LEFT JOIN bindings b ON b.mapping = o.mapping AND b.key = o.key
		LEFT JOIN intents i ON i.mapping = o.mapping AND i.key = o.key
		LEFT JOIN statuses st ON st.mapping = o.mapping AND st.key = o.key`, string(doc), mapping)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	defer rows.Close()
	byKey := make(map[string]forcesync.WorkItem, len(keys))
	for rows.Next() {
		it, err := scanWorkItem(rows, mapping, "claim")
		if err != nil {
			return nil, err
		}
		byKey[it.Key] = it
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	items := make([]forcesync.WorkItem, 0, len(keys))
	for _, k := range keys {
		if it, ok := byKey[k]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}

// claimRanges reads the rows of keys table by table, in one read
// transaction, each table as one range of its primary key from the
// smallest key to the largest: a walk along the leaves, matched to the
// keys in Go, instead of a b-tree descent per key in each of five tables.
// Besides the descents it saves, a walk reads each page once whatever
// SQLite's page cache holds, where lookups read a page again each time the
// cache lost it.
//
// Where a table holds many more rows in the range than there are keys (a
// source whose records changed here and there), its walk stops after half
// as many rows again as keys and the keys beyond are looked up one by one.
func (s *Store) claimRanges(ctx context.Context, mapping string, keys []string) ([]forcesync.WorkItem, error) {
	// order lists the positions in keys in key order.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]string, len(keys))
	for i, o := range order {
		sorted[i] = keys[o]
		if i > 0 && sorted[i] == sorted[i-1] {
			// A lease names each key once; were one named twice, the
			// lookup join reads it as it always did.
			return s.claimLookups(ctx, mapping, keys)
		}
	}
	tx, err := s.cr.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	defer tx.Rollback()
	items := make([]forcesync.WorkItem, len(sorted))
	if err := claimRangeRead(ctx, tx, mapping, items, sorted); err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	out := make([]forcesync.WorkItem, len(keys))
	for i, o := range order {
		out[o] = items[i]
	}
	// An item without a Mapping lacks its outbox row or its record.
	return slices.DeleteFunc(out, func(it forcesync.WorkItem) bool { return it.Mapping == "" }), nil
}

// claimRangeRead fills items[i] with the outbox row, record, binding,
// intent and status of sorted[i] under mapping. Items whose outbox row or
// record is missing keep an empty Mapping.
func claimRangeRead(ctx context.Context, tx *sql.Tx, mapping string, items []forcesync.WorkItem, sorted []string) error {
	var (
		prio   int
		forced bool
		enq    int64
		key    string
	)
	if err := readKeyed(ctx, tx, "outbox", "mapping", mapping, "source, priority, seq, attempts, forced, enqueued", sorted, func(rows *sql.Rows, find func(string) int) error {
		var it forcesync.WorkItem
		if err := rows.Scan(&key, &it.Source, &prio, &it.Seq, &it.Attempts, &forced, &enq); err != nil {
			return err
		}
		if i := find(key); i >= 0 {
			it.Key, it.Priority, it.Forced, it.Enqueued = key, forcesync.Priority(prio), forced, fromMS(enq)
			items[i] = it
		}
		return nil
	}); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	// The rest is read for the keys with an outbox row, by source for the
	// records (a mapping has one source, but a row names its own).
	var queued []string
	var at []int
	bySource := map[string][]int{}
	for i := range items {
		if items[i].Key != "" {
			queued = append(queued, sorted[i])
			at = append(at, i)
			bySource[items[i].Source] = append(bySource[items[i].Source], i)
		}
	}
	if len(queued) == 0 {
		return nil
	}
	for src, pos := range bySource {
		ks := queued
		if len(bySource) > 1 {
			ks = make([]string, len(pos))
			for j, i := range pos {
				ks[j] = sorted[i]
			}
		}
		var (
			op     string
			fields sql.RawBytes // decoded at once; no copy
		)
		if err := readKeyed(ctx, tx, "source_records", "source", src, "version, op, fields", ks, func(rows *sql.Rows, find func(string) int) error {
			var version int64
			if err := rows.Scan(&key, &version, &op, &fields); err != nil {
				return err
			}
			j := find(key)
			if j < 0 {
				return nil
			}
			it := &items[pos[j]]
			it.Mapping, it.Version, it.Op = mapping, version, forcesync.Op(op)
			it.Fields, it.Unreadable = storeplan.DecodeFields(fields) // unreadable: held by the engine, not a failed claim
			return nil
		}); err != nil {
			return fmt.Errorf("records of %s: %w", src, err)
		}
	}
	if err := readKeyed(ctx, tx, "bindings", "mapping", mapping, "sf_id, fingerprint, modstamp, updated", queued, func(rows *sql.Rows, find func(string) int) error {
		var (
			b          forcesync.Binding
			bmod, bupd int64
		)
		if err := rows.Scan(&key, &b.SalesforceID, &b.Fingerprint, &bmod, &bupd); err != nil {
			return err
		}
		if j := find(key); j >= 0 {
			b.Mapping, b.Key, b.Modstamp, b.Updated = mapping, key, fromMS(bmod), fromMS(bupd)
			items[at[j]].Binding = &b
		}
		return nil
	}); err != nil {
		return fmt.Errorf("bindings: %w", err)
	}
	if err := readKeyed(ctx, tx, "intents", "mapping", mapping, "match, at", queued, func(rows *sql.Rows, find func(string) int) error {
		var (
			match sql.RawBytes
			iat   int64
		)
		if err := rows.Scan(&key, &match, &iat); err != nil {
			return err
		}
		if j := find(key); j >= 0 {
			in := &forcesync.Intent{Key: key, At: fromMS(iat)}
			if err := json.Unmarshal(match, &in.Match); err != nil {
				return fmt.Errorf("%s: stored intent: %w", key, err)
			}
			items[at[j]].Intent = in
		}
		return nil
	}); err != nil {
		return fmt.Errorf("intents: %w", err)
	}
	if err := readKeyed(ctx, tx, "statuses", "mapping", mapping, "held_fp", queued, func(rows *sql.Rows, find func(string) int) error {
		var hf string
		if err := rows.Scan(&key, &hf); err != nil {
			return err
		}
		if j := find(key); j >= 0 {
			items[at[j]].HeldFingerprint = hf
		}
		return nil
	}); err != nil {
		return fmt.Errorf("statuses: %w", err)
	}
	return nil
}

// readKeyed reads the rows of table whose scope column (mapping or
// source) is value and whose key is one of sorted, in key order, and calls
// row for each with a find that returns the position in sorted of a key
// (or -1 for a key not asked for). It walks the table's range of the keys
// up to half as many rows again as keys, and looks the keys beyond where
// the walk stopped up one by one.
func readKeyed(ctx context.Context, tx *sql.Tx, table, scope, value, cols string, sorted []string,
	row func(rows *sql.Rows, find func(string) int) error) error {
	j := 0 // rows come in key order: find only moves forward
	var last string
	find := func(k string) int {
		last = k
		for j < len(sorted) && sorted[j] < k {
			j++
		}
		if j < len(sorted) && sorted[j] == k {
			return j
		}
		return -1
	}
	limit := len(sorted) + len(sorted)/2
	rows, err := tx.QueryContext(ctx, `SELECT key, `+cols+` FROM `+table+` WHERE `+scope+` = ? AND key BETWEEN ? AND ? ORDER BY key LIMIT ?`,
		value, sorted[0], sorted[len(sorted)-1], limit)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
		if err := row(rows, find); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if n < limit {
		return nil
	}
	// The walk stopped early: the keys after the last row it read remain.
	rest := sorted[j:]
	if len(rest) > 0 && rest[0] == last {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return nil
	}
	doc, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT t.key, `+prefixed("t.", cols)+` FROM json_each(?) k
		CROSS JOIN `+table+` t ON t.`+scope+` = ? AND t.key = k.value -- CROSS: the keys drive the join`, string(doc), value)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows, find); err != nil {
			return err
		}
	}
	return rows.Close()
}

// prefixed puts p before each of the comma-separated columns in cols.
func prefixed(p, cols string) string {
	return p + strings.ReplaceAll(cols, ", ", ", "+p)
}

// scanWorkItem reads a work item from a row of the outbox joined with its
// record, binding, intent and status, in the column order claimLookups
// and Peek select; what names the caller in errors ("claim", "peek").
func scanWorkItem(rows *sql.Rows, mapping, what string) (forcesync.WorkItem, error) {
	var (
		it                            forcesync.WorkItem
		prio                          int
		forced, hasBinding, hasIntent bool
		enq, bmod, bupd, iat          int64
		op, sfID, fp, imatch, hf      string
		fields                        sql.RawBytes // decoded at once; no copy
	)
	if err := rows.Scan(&it.Key, &it.Source, &prio, &it.Seq, &it.Attempts, &forced, &enq,
		&it.Version, &op, &fields,
		&sfID, &fp, &bmod, &bupd, &hasBinding,
		&imatch, &iat, &hasIntent, &hf); err != nil {
		return it, fmt.Errorf("%s %s: %w", what, mapping, err)
	}
	it.Mapping, it.Priority, it.Forced, it.Enqueued = mapping, forcesync.Priority(prio), forced, fromMS(enq)
	it.Op, it.HeldFingerprint = forcesync.Op(op), hf
	it.Fields, it.Unreadable = storeplan.DecodeFields(fields) // unreadable: held by the engine, not a failed claim
	if hasBinding {
		it.Binding = &forcesync.Binding{Mapping: mapping, Key: it.Key, SalesforceID: sfID,
			Fingerprint: fp, Modstamp: fromMS(bmod), Updated: fromMS(bupd)}
	}
	if hasIntent {
		in := &forcesync.Intent{Key: it.Key, At: fromMS(iat)}
		if err := json.Unmarshal([]byte(imatch), &in.Match); err != nil {
			return it, fmt.Errorf("%s %s/%s: stored intent: %w", what, mapping, it.Key, err)
		}
		it.Intent = in
	}
	return it, nil
}
