package emulator

import (
	"crypto/rand"
	"encoding/json"
	"iter"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/forcesync/forcesync/emulator/soql"
)

// Query paging: Salesforce's default, minimum and maximum batch sizes
// (Sforce-Query-Options: batchSize=N), and how long an idle cursor lives.
const (
	queryBatchDefault = 2000
	queryBatchMin     = 200
	queryBatchMax     = 2000
	cursorLifetime    = 15 * time.Minute
)

// --- schema and row adapters for package soql --------------------------------

// querySchema exposes the org's objects to the SOQL compiler. e.mu must be
// held (read or write) while it and the rows it yields are in use.
type querySchema struct{ e *Emulator }

func (s querySchema) Object(name string) soql.Object {
	o := s.e.sobjectLocked(name)
	if o == nil || !o.Queryable {
		return nil
	}
	return queryObject{o: o, schema: &s}
}

// Rows implements soql.RowSource (semi-joins): the live records of obj.
func (s querySchema) Rows(obj soql.Object) iter.Seq[soql.Row] {
	o := obj.(queryObject).o
	return func(yield func(soql.Row) bool) {
		s.e.eachRecordLocked(o, false, func(r *record) bool {
			return yield(&queryRow{e: s.e, r: r})
		})
	}
}

// queryObject is an object as the compiler sees it; schema serves child
// relationships (query_relations.go).
type queryObject struct {
	o      *sobject
	schema *querySchema
}

func (q queryObject) Name() string { return q.o.Name }

func (q queryObject) Field(name string) *soql.Field {
	if f := q.o.field(name); f != nil {
		return soqlField(f)
	}
	return nil
}

// Fields implements soql.FieldLister (FIELDS(ALL) and friends).
func (q queryObject) Fields() []*soql.Field {
	out := make([]*soql.Field, 0, len(q.o.Fields))
	for _, f := range q.o.Fields {
		out = append(out, soqlField(f))
	}
	return out
}

func (q queryObject) Relationship(name string) *soql.Field {
	for _, f := range q.o.Fields {
		if f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) {
			return soqlField(f)
		}
	}
	return nil
}

func soqlField(f *field) *soql.Field {
	return &soql.Field{
		Name: f.Name, Type: f.Type, ReferenceTo: f.ReferenceTo, RelationshipName: f.RelationshipName,
		Custom: f.Custom, Createable: f.Createable, Updateable: f.Updateable, Scale: f.Scale, Handle: f,
	}
}

// queryRow is a record as the evaluator reads it.
type queryRow struct {
	e *Emulator
	r *record
}

func (q *queryRow) Get(sf *soql.Field) any {
	f := sf.Handle.(*field)
	if f.pos >= len(q.r.obj.Fields) || q.r.obj.Fields[f.pos] != f {
		// A polymorphic parent of another type than the one the field was
		// resolved on: look the field up by name on the record's own object.
		if f = q.r.obj.field(sf.Name); f == nil {
			return nil
		}
	}
	return q.r.get(f)
}

func (q *queryRow) Parent(ref *soql.Field) soql.Row {
	id, _ := q.r.get(ref.Handle.(*field)).(string)
	if id == "" {
		return nil
	}
	p := q.e.getRecordLocked(id)
	if p == nil || p.deleted {
		return nil
	}
	return &queryRow{e: q.e, r: p}
}

// --- running a query -----------------------------------------------------------

// queryError is a SOQL failure; Salesforce answers it with HTTP 400 and no
// "fields" key. Code is MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
// INVALID_QUERY_FILTER_OPERATOR or NUMBER_OUTSIDE_VALID_RANGE.
type queryError struct{ Code, Message string }

// queryResult is a query run against the store: the compiled plan and the
// selected records in result order (after ORDER BY, OFFSET and LIMIT).
type queryResult struct {
	plan    *soql.Plan
	records []*record
}

// execQueryLocked parses, compiles and runs text. all includes records in
// the recycle bin (queryAll). Caller holds e.mu (read or write).
func (e *Emulator) execQueryLocked(text string, all bool) (*queryResult, *queryError) {
	plan, qerr := e.compileQueryLocked(text)
	if qerr != nil {
		return nil, qerr
	}
	obj := plan.Object.(queryObject).o
	// One allocation for all row adapters instead of one per record.
	rows := make([]queryRow, 0, len(obj.rows))
	seq := func(yield func(soql.Row) bool) {
		e.eachRecordLocked(obj, all, func(r *record) bool {
			rows = append(rows, queryRow{e: e, r: r})
			return yield(&rows[len(rows)-1])
		})
	}
	sel := plan.Select(seq)
	res := &queryResult{plan: plan, records: make([]*record, len(sel))}
	for i, r := range sel {
		res.records[i] = r.(*queryRow).r
	}
	return res, nil
}

func (e *Emulator) compileQueryLocked(text string) (*soql.Plan, *queryError) {
	if qerr := checkQueryLength(text); qerr != nil { // soqllimits.go
		return nil, qerr
	}
	q, err := soql.Parse(text)
	if err == nil {
		var plan *soql.Plan
		opts := soql.Options{Now: e.now, Location: e.userLocationLocked()}
		if plan, err = soql.Compile(text, q, querySchema{e}, opts); err == nil {
			return plan, nil
		}
	}
	if se, ok := err.(*soql.Error); ok {
		return nil, &queryError{Code: se.Code, Message: se.Message}
	}
	return nil, &queryError{Code: soql.CodeMalformedQuery, Message: err.Error()}
}

// runQueryLocked runs a SOQL query for Bulk API 2.0 query jobs. all
// includes deleted records (operation queryAll). cols are the selected
// columns as Salesforce names them in CSV headers ("Id", "Owner.Name");
// rows yields each record's values as CSV strings: "" for null, true/false,
// numbers as the REST API writes them, dates YYYY-MM-DD, datetimes
// 2024-05-01T12:34:56.000Z. The caller must hold e.mu (read or write) until
// it has finished ranging over rows. Aggregate queries (COUNT) are refused
// with MALFORMED_QUERY, as Bulk API 2.0 does not support them.
func (e *Emulator) runQueryLocked(text string, all bool) (cols []string, rows iter.Seq[[]string], qerr *queryError) {
	res, qerr := e.execQueryLocked(text, all)
	if qerr != nil {
		return nil, nil, qerr
	}
	if res.plan.CountOnly || res.plan.Aggregate {
		return nil, nil, &queryError{Code: soql.CodeMalformedQuery, Message: "Aggregate functions are not supported by Bulk API 2.0 query jobs."}
	}
	for _, c := range res.plan.Columns {
		if c.TypeOf != nil {
			// The Bulk API 2.0 guide lists TYPEOF among what query jobs do
			// not support; the wording is UNCONFIRMED.
			return nil, nil, &queryError{Code: soql.CodeMalformedQuery, Message: "TYPEOF is not supported by Bulk API query jobs."}
		}
	}
	for _, c := range res.plan.Columns {
		cols = append(cols, c.Path)
	}
	rows = func(yield func([]string) bool) {
		for _, r := range res.records {
			row := queryRow{e: e, r: r}
			vals := make([]string, len(res.plan.Columns))
			for i, c := range res.plan.Columns {
				vals[i] = csvValue(c.Field, c.Value(&row))
			}
			if !yield(vals) {
				return
			}
		}
	}
	return cols, rows, nil
}

// columnJSON renders a column's value for a REST record: as stored for
// the field, or as is when a function (FORMAT) already made it the string
// to send, or a function changed its type (date functions).
func columnJSON(col *soql.Column, v any) any {
	f, ok := col.Field.Handle.(*field)
	if col.Formatted || !ok {
		return v
	}
	return jsonValue(f, v)
}

// userLocationLocked is the time zone of the org's users (they share the
// admin's TimeZoneSidKey) for convertTimezone() and FORMAT(); UTC when
// unknown.
func (e *Emulator) userLocationLocked() *time.Location {
	if r := e.getRecordLocked(e.adminUserIDLocked()); r != nil {
		if tz, _ := r.getName("TimeZoneSidKey").(string); tz != "" {
			if loc, err := time.LoadLocation(tz); err == nil {
				return loc
			}
		}
	}
	return time.UTC
}

// csvValue renders a stored value for a Bulk CSV cell.
func csvValue(sf *soql.Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case float64:
		f, _ := sf.Handle.(*field)
		if f == nil {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		if n, ok := jsonValue(f, x).(json.Number); ok {
			return n.String()
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// --- cursors -------------------------------------------------------------------

// queryCursor is the rest of a result set, served page by page through
// nextRecordsUrl.
type queryCursor struct {
	res      *queryResult
	batch    int
	lastUsed time.Time
}

// cursorStore holds one emulator's open cursors. It lives beside the
// Emulator (keyed weakly, so it goes when the emulator goes) because the
// cursors are query.go's own state.
type cursorStore struct {
	mu      sync.Mutex
	cursors map[string]*queryCursor
}

var cursorStores sync.Map // weak.Pointer[Emulator] -> *cursorStore

func (e *Emulator) cursors() *cursorStore {
	key := weak.Make(e)
	if s, ok := cursorStores.Load(key); ok {
		return s.(*cursorStore)
	}
	s, loaded := cursorStores.LoadOrStore(key, &cursorStore{cursors: map[string]*queryCursor{}})
	if !loaded {
		runtime.AddCleanup(e, func(k weak.Pointer[Emulator]) { cursorStores.Delete(k) }, key)
	}
	return s.(*cursorStore)
}

// put stores a cursor and returns its locator ("01g" + 15 characters, an
// Id-shaped string like Salesforce's).
func (s *cursorStore) put(c *queryCursor, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for loc, old := range s.cursors {
		if now.Sub(old.lastUsed) > cursorLifetime {
			delete(s.cursors, loc)
		}
	}
	for {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := "01g"
		for _, x := range b {
			id += string(base62[int(x)%62])
		}
		id = id + idChecksum(id)
		if _, dup := s.cursors[id]; !dup {
			s.cursors[id] = c
			return id
		}
	}
}

// get returns the live cursor for loc, refreshing its idle timer.
func (s *cursorStore) get(loc string, now time.Time) *queryCursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cursors[loc]
	if c == nil {
		return nil
	}
	if now.Sub(c.lastUsed) > cursorLifetime {
		delete(s.cursors, loc)
		return nil
	}
	c.lastUsed = now
	return c
}

// --- HTTP ----------------------------------------------------------------------

func (e *Emulator) registerQueryRoutes() {
	e.handle("/services/data/{version}/query", KindQuery, true, map[string]handlerFunc{"GET": e.serveQuery(false)})
	e.handle("/services/data/{version}/queryAll", KindQuery, true, map[string]handlerFunc{"GET": e.serveQuery(true)})
	e.handle("/services/data/{version}/query/{locator}", KindQuery, true, map[string]handlerFunc{"GET": e.serveQueryMore})
	e.handle("/services/data/{version}/queryAll/{locator}", KindQuery, true, map[string]handlerFunc{"GET": e.serveQueryMore})
}

// batchSize reads Sforce-Query-Options: batchSize=N, clamped to 200..2000.
func batchSize(r *http.Request) int {
	for _, part := range strings.Split(r.Header.Get("Sforce-Query-Options"), ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		return min(max(n, queryBatchMin), queryBatchMax)
	}
	return queryBatchDefault
}

func (e *Emulator) serveQuery(all bool) handlerFunc {
	return func(c *call) {
		text := c.r.URL.Query().Get("q")
		if x := c.r.URL.Query().Get("explain"); !all && text == "" && x != "" {
			e.serveExplain(c, x) // explain.go
			return
		}
		if strings.TrimSpace(text) == "" {
			c.writeError(http.StatusBadRequest, soql.CodeMalformedQuery, "A query string has to be specified", nil)
			return
		}
		e.mu.RLock()
		defer e.mu.RUnlock()
		if v := c.r.URL.Query().Get("columns"); strings.EqualFold(v, "true") {
			plan, qerr := e.compileQueryLocked(text)
			if qerr != nil {
				c.writeError(http.StatusBadRequest, qerr.Code, qerr.Message, nil)
				return
			}
			c.writeJSON(http.StatusOK, queryColumns(plan))
			return
		}
		res, qerr := e.execQueryLocked(text, all)
		if qerr != nil {
			c.writeError(http.StatusBadRequest, qerr.Code, qerr.Message, nil)
			return
		}
		e.writeQueryPage(c, res, "", 0, batchSize(c.r))
	}
}

func (e *Emulator) serveQueryMore(c *call) {
	loc := c.r.PathValue("locator")
	i := strings.LastIndexByte(loc, '-')
	start := -1
	if i > 0 {
		if n, err := strconv.Atoi(loc[i+1:]); err == nil && n >= 0 {
			start = n
		}
		loc = loc[:i]
	}
	cur := e.cursors().get(loc, e.now())
	if cur == nil || start < 0 || start > len(cur.res.records) {
		c.writeError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator", nil)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.writeQueryPage(c, cur.res, loc, start, cur.batch)
}

// writeQueryPage answers one page of res starting at start, opening a
// cursor when more pages remain (loc is the existing cursor, if any).
func (e *Emulator) writeQueryPage(c *call, res *queryResult, loc string, start, batch int) {
	plan := res.plan
	type page struct {
		TotalSize      int    `json:"totalSize"`
		Done           bool   `json:"done"`
		NextRecordsURL string `json:"nextRecordsUrl,omitempty"`
		Records        []any  `json:"records"`
	}
	switch {
	case plan.CountOnly:
		c.writeJSON(http.StatusOK, page{TotalSize: len(res.records), Done: true, Records: []any{}})
		return
	case plan.Aggregate:
		recs := e.aggregateRecordsLocked(plan, res.records) // query_relations.go
		c.writeJSON(http.StatusOK, page{TotalSize: len(recs), Done: true, Records: recs})
		return
	}
	end := min(start+batch, len(res.records))
	out := page{TotalSize: len(res.records), Done: end >= len(res.records), Records: make([]any, 0, end-start)}
	kids := e.childIndexLocked(plan, res.records[start:end])
	for _, r := range res.records[start:end] {
		out.Records = append(out.Records, e.renderQueryRecordLocked(c, plan, r, kids))
	}
	if !out.Done {
		if loc == "" {
			loc = e.cursors().put(&queryCursor{res: res, batch: batch, lastUsed: e.now()}, e.now())
		}
		out.NextRecordsURL = "/services/data/v" + versionOf(c) + "/query/" + loc + "-" + strconv.Itoa(end)
	}
	c.writeJSON(http.StatusOK, out)
}

// renderQueryRecordLocked renders one result row: attributes, then the
// selected columns in SELECT order, parent fields nested under their
// relationship chain with their own attributes (null for an empty
// reference), subqueries as nested results (kids holds the children).
func (e *Emulator) renderQueryRecordLocked(c *call, plan *soql.Plan, r *record, kids childIndex) *orderedRecord {
	row := &queryRow{e: e, r: r}
	out := &orderedRecord{keys: make([]string, 0, len(plan.Columns)+1), vals: make([]any, 0, len(plan.Columns)+1)}
	out.keys = append(out.keys, "attributes")
	out.vals = append(out.vals, map[string]any{"type": r.obj.Name, "url": recordURL(c, r.obj, r.ID)})
	var nested map[string]*parentSlot
	for _, col := range plan.Columns {
		switch {
		case col.Sub != nil:
			out.keys = append(out.keys, col.Sub.Name)
			out.vals = append(out.vals, e.subqueryValueLocked(c, col.Sub, kids[col.Sub][r.ID]))
		case col.TypeOf != nil:
			out.keys = append(out.keys, col.TypeOf.Name)
			out.vals = append(out.vals, e.typeOfValueLocked(c, row, col.TypeOf)) // query_relations.go
		case col.Ref == nil || col.Alias != "":
			key := col.Field.Name
			if col.Alias != "" {
				key = col.Alias
			}
			out.keys = append(out.keys, key)
			out.vals = append(out.vals, columnJSON(col, col.Value(row)))
		default:
			if nested == nil {
				nested = map[string]*parentSlot{}
			}
			e.parentValueLocked(c, out, row, col, nested)
		}
	}
	return out
}

// --- columns=true --------------------------------------------------------------

// queryColumnMeta is one entry of columnMetadata (the shape `sf data query`
// reads): parent fields are grouped under their relationship in joinColumns.
type queryColumnMeta struct {
	Aggregate      bool              `json:"aggregate"`
	ApexType       *string           `json:"apexType"`
	BooleanType    bool              `json:"booleanType"`
	ColumnName     string            `json:"columnName"`
	Custom         bool              `json:"custom"`
	DisplayName    string            `json:"displayName"`
	ForeignKeyName *string           `json:"foreignKeyName"`
	Insertable     bool              `json:"insertable"`
	JoinColumns    []queryColumnMeta `json:"joinColumns"`
	NumberType     bool              `json:"numberType"`
	TextType       bool              `json:"textType"`
	Updatable      bool              `json:"updatable"`
}

type queryColumnsResponse struct {
	ColumnMetadata []queryColumnMeta `json:"columnMetadata"`
	EntityName     string            `json:"entityName"`
	GroupBy        bool              `json:"groupBy"`
	IDSelected     bool              `json:"idSelected"`
	KeyPrefix      string            `json:"keyPrefix"`
}

func fieldColumnMeta(f *soql.Field) queryColumnMeta {
	apex := soql.ApexType(f.Type)
	return queryColumnMeta{
		ApexType: &apex, BooleanType: f.Type == "boolean", ColumnName: f.Name, Custom: f.Custom,
		DisplayName: f.Name, Insertable: f.Createable, JoinColumns: []queryColumnMeta{},
		NumberType: soql.IsNumber(f.Type), TextType: soql.IsText(f.Type), Updatable: f.Updateable,
	}
}

func queryColumns(plan *soql.Plan) queryColumnsResponse {
	obj := plan.Object.(queryObject).o
	out := queryColumnsResponse{ColumnMetadata: []queryColumnMeta{}, EntityName: obj.Name, KeyPrefix: obj.KeyPrefix}
	parents := map[string]int{}
	if plan.Aggregate {
		out.GroupBy = len(plan.Query.GroupBy) > 0
	}
	for _, col := range plan.Columns {
		switch {
		case col.Count:
			out.ColumnMetadata = append(out.ColumnMetadata, queryColumnMeta{
				Aggregate: true, ColumnName: col.Path, DisplayName: col.Display,
				JoinColumns: []queryColumnMeta{}, NumberType: soql.IsNumber(col.Field.Type),
				TextType: soql.IsText(col.Field.Type),
			})
		case col.Sub != nil:
			out.ColumnMetadata = append(out.ColumnMetadata, queryColumnMeta{
				ColumnName: col.Sub.Name, DisplayName: col.Sub.Name, JoinColumns: []queryColumnMeta{},
			})
		case col.TypeOf != nil:
			fk := col.TypeOf.Ref.Name
			out.ColumnMetadata = append(out.ColumnMetadata, queryColumnMeta{
				ColumnName: col.TypeOf.Name, DisplayName: col.TypeOf.Name, ForeignKeyName: &fk, JoinColumns: []queryColumnMeta{},
			})
		case col.Ref == nil && plan.Aggregate:
			m := fieldColumnMeta(col.Field)
			m.Aggregate = true
			if _, isField := col.Field.Handle.(*field); !isField || col.Alias != "" {
				// A date function (or an aliased item) is named as in the
				// records: its alias, or exprN.
				m.ColumnName, m.DisplayName = col.Path, col.Display
			}
			out.ColumnMetadata = append(out.ColumnMetadata, m)
		case col.Ref == nil:
			if col.Field.Name == "Id" {
				out.IDSelected = true
			}
			out.ColumnMetadata = append(out.ColumnMetadata, fieldColumnMeta(col.Field))
		default:
			rel := col.Ref.RelationshipName
			idx, ok := parents[rel]
			if !ok {
				fk := col.Ref.Name
				idx = len(out.ColumnMetadata)
				parents[rel] = idx
				out.ColumnMetadata = append(out.ColumnMetadata, queryColumnMeta{
					ColumnName: rel, DisplayName: rel, ForeignKeyName: &fk, JoinColumns: []queryColumnMeta{},
				})
			}
			out.ColumnMetadata[idx].JoinColumns = append(out.ColumnMetadata[idx].JoinColumns, fieldColumnMeta(col.Field))
		}
	}
	return out
}
