package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/forcesync/forcesync/salesforce"
)

// Reader reads records back from Salesforce, for plan (the values an
// update would replace) and reconcile (what Salesforce holds now).
// *SalesforceAPI implements it.
type Reader interface {
	// ReadWhere returns obj's records whose field (Id, or an External ID
	// or other filterable field) equals one of values, with fields (Id is
	// always read). all includes deleted records (queryAll). Values are
	// read in SOQL IN chunks that keep each query's URL under Salesforce's
	// limit (api.go: chunkByURLLen).
	ReadWhere(ctx context.Context, obj, field string, values, fields []string, all bool) ([]salesforce.Record, error)
	// ReadAll streams every record of obj, with fields, through one Bulk
	// API 2.0 query (a few calls for any number of records); where, when
	// not nil, filters it.
	ReadAll(ctx context.Context, obj string, fields []string, where salesforce.Cond, all bool, fn func(salesforce.Record) error) error
}

// ReadWhere implements Reader. Names are checked against the describe and
// values escaped by the SOQL rules.
func (a *SalesforceAPI) ReadWhere(ctx context.Context, obj, field string, values, fields []string, all bool) ([]salesforce.Record, error) {
	if len(values) == 0 {
		return nil, nil
	}
	d, err := a.Client.Describe(ctx, obj)
	if err != nil {
		return nil, err
	}
	sel := selectList(fields)
	var out []salesforce.Record
	for _, chunk := range chunkByURLLen(values, inBudget(sel, d.Name, field)) {
		q, err := salesforce.Select(sel...).From(d.Name).Where(salesforce.In(field, chunk...)).Build(d)
		if err != nil {
			return nil, fmt.Errorf("read %s by %s: %w", obj, field, err)
		}
		rows := a.Client.Query(ctx, q, nil)
		if all {
			rows = a.Client.QueryAll(ctx, q, nil)
		}
		for rows.Next() {
			out = append(out, rows.Record())
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s by %s: %w", obj, field, err)
		}
	}
	return out, nil
}

// ReadAll implements Reader.
func (a *SalesforceAPI) ReadAll(ctx context.Context, obj string, fields []string, where salesforce.Cond, all bool, fn func(salesforce.Record) error) error {
	d, err := a.Client.Describe(ctx, obj)
	if err != nil {
		return err
	}
	sel := selectList(fields)
	b := salesforce.Select(sel...).From(d.Name)
	if where != nil {
		b = b.Where(where)
	}
	q, err := b.Build(d)
	if err != nil {
		return fmt.Errorf("read %s: %w", obj, err)
	}
	types := map[string]string{}
	for _, f := range sel {
		if df := d.Field(f); df != nil {
			types[f] = df.Type
		}
	}
	// Pages as large as Salesforce allows: fewer results calls.
	for row, err := range a.Client.Bulk(salesforce.BulkConfig{}).Query(ctx, q, salesforce.QueryJobOptions{All: all, MaxRecords: 100_000}) {
		if err != nil {
			return fmt.Errorf("read %s: %w", obj, err)
		}
		rec := salesforce.Record{}
		for i, c := range row.Columns() {
			rec[c] = fromCSV(row.Values[i], types[c])
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// fromCSV types a Bulk query's CSV value like the JSON of a REST query.
func fromCSV(v, typ string) any {
	if v == "" {
		return nil
	}
	switch typ {
	case "boolean":
		return v == "true"
	case "int", "double", "currency", "percent":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

// selectList is Id and fields, without repeats.
func selectList(fields []string) []string {
	out := []string{"Id"}
	seen := map[string]bool{"id": true}
	for _, f := range fields {
		if !seen[strings.ToLower(f)] {
			seen[strings.ToLower(f)] = true
			out = append(out, f)
		}
	}
	return out
}

// sameValue compares a payload value with the value Salesforce holds:
// numbers by value, an empty string like no value.
func sameValue(a, b any) bool { return canonical(a) == canonical(b) }

func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		// Salesforce answers datetimes as 2026-01-02T03:04:05.000+0000;
		// a payload may spell the same instant another way.
		if len(x) >= 20 && x[4] == '-' && x[10] == 'T' {
			for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
				if t, err := time.Parse(layout, x); err == nil {
					return t.UTC().Format(time.RFC3339Nano)
				}
			}
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return x.String()
	}
	return fmt.Sprint(v)
}
