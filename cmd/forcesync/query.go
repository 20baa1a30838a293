package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
)

func init() { register(newQueryCmd) }

// tableBlock is how many rows the table format aligns at a time: rows are
// printed as they arrive, so widths are measured per block, not over the
// whole result (which may not fit in memory).
const tableBlock = 500

func newQueryCmd(env *Env) *cobra.Command {
	var conn, format string
	var all bool
	var batch int
	cmd := &cobra.Command{
		Use:   `query "SOQL"`,
		Short: "Run a SOQL query and print its records as they arrive",
		Long: `Run a SOQL query and print its records as they arrive, page by page.

Columns follow the SELECT list; relationship fields (Owner.Name) are
followed into the parent record. --all runs queryAll (deleted and archived
records too).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			soql := strings.TrimSpace(args[0])
			if soql == "" {
				return usageError{errors.New("the query is empty")}
			}
			if batch != 0 && (batch < 200 || batch > 2000) {
				return usageError{fmt.Errorf("--batch-size %d: Salesforce takes 200 to 2000 records a page (0: its default)", batch)}
			}
			var out recordWriter
			switch format {
			case "table":
				out = &tableWriter{tw: newTable(env.Stdout), w: env.Stdout}
			case "csv":
				out = &csvRecordWriter{w: csv.NewWriter(env.Stdout)}
			case "json":
				out = &jsonRecordWriter{w: env.Stdout}
			default:
				return usageError{fmt.Errorf("--format %q: want table, csv or json", format)}
			}
			ctx := cmd.Context()
			c, _, err := openClient(ctx, env, conn)
			if err != nil {
				return err
			}
			opt := &salesforce.QueryOptions{BatchSize: batch}
			rows := c.Query(ctx, soql, opt)
			if all {
				rows = c.QueryAll(ctx, soql, opt)
			}
			cols := selectColumns(soql)
			// The header waits for Salesforce's first answer: a query it
			// refuses prints the error alone.
			begun := false
			begin := func() error {
				if begun {
					return nil
				}
				begun = true
				return out.begin(cols)
			}
			n := 0
			for rows.Next() {
				if err := begin(); err != nil {
					return err
				}
				rec := rows.Record()
				if err := out.write(cols, rec); err != nil {
					return err
				}
				n++
			}
			if err := rows.Err(); err != nil {
				if begun {
					out.end()
				}
				return classifyCall(err)
			}
			if err := begin(); err != nil {
				return err
			}
			if err := out.end(); err != nil {
				return err
			}
			if format == "table" {
				fmt.Fprintf(env.Stderr, "%d records\n", n)
			}
			return nil
		},
	}
	connectionFlag(cmd, &conn)
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output format: table, csv or json")
	f.BoolVar(&all, "all", false, "use queryAll: include deleted and archived records")
	f.IntVar(&batch, "batch-size", 0, "records per page asked of Salesforce (200-2000; 0: its default)")
	return cmd
}

// column is one item of the SELECT list.
type column struct {
	title string   // as written in the query (or its alias)
	path  []string // keys to follow in the record; nil when unresolvable
}

// selectColumns reads the SELECT list of soql: plain fields and
// relationship paths, aggregates by alias or as expr0, expr1, ...;
// subqueries by their relationship name. It never fails: an empty list
// means "columns unknown" and rows print as JSON objects.
func selectColumns(soql string) []column {
	s := strings.TrimSpace(soql)
	if len(s) < 7 || !strings.EqualFold(s[:6], "select") || !unicode.IsSpace(rune(s[6])) {
		return nil
	}
	s = s[7:]
	var items []string
	depth, start := 0, 0
	inQuote := false
	end := -1
	for i := 0; i < len(s) && end < 0; i++ {
		ch := s[i]
		switch {
		case inQuote:
			if ch == '\\' {
				i++
			} else if ch == '\'' {
				inQuote = false
			}
		case ch == '\'':
			inQuote = true
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case ch == ',' && depth == 0:
			items = append(items, s[start:i])
			start = i + 1
		case depth == 0 && (i == 0 || unicode.IsSpace(rune(s[i-1]))) && len(s) >= i+5 &&
			strings.EqualFold(s[i:i+4], "from") && unicode.IsSpace(rune(s[i+4])):
			items = append(items, s[start:i])
			end = i
		}
	}
	if end < 0 {
		return nil
	}
	var cols []column
	expr := 0
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil
		}
		switch {
		case strings.HasPrefix(it, "("):
			// A subquery: its records nest under the relationship name.
			inner := selectFrom(strings.Trim(it, "()"))
			cols = append(cols, column{title: inner, path: []string{inner}})
		case strings.Contains(it, "("):
			// A function or aggregate: its alias, else exprN.
			closeAt := strings.LastIndexByte(it, ')')
			alias := strings.TrimSpace(it[closeAt+1:])
			if alias != "" {
				cols = append(cols, column{title: alias, path: []string{alias}})
			} else {
				key := "expr" + strconv.Itoa(expr)
				expr++
				cols = append(cols, column{title: it, path: []string{key}})
			}
		default:
			f := strings.Fields(it)[0]
			cols = append(cols, column{title: f, path: strings.Split(f, ".")})
		}
	}
	return cols
}

// selectFrom returns the FROM target of a (sub)query.
func selectFrom(q string) string {
	f := strings.Fields(q)
	for i := 0; i+1 < len(f); i++ {
		if strings.EqualFold(f[i], "from") {
			return f[i+1]
		}
	}
	return q
}

// lookup follows a column's path in a record. Salesforce answers with the
// field's own casing whatever the query's, so keys match case-insensitively.
func lookup(rec map[string]any, path []string) any {
	var cur any = rec
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		v, found := m[k]
		if !found {
			for mk, mv := range m {
				if strings.EqualFold(mk, k) {
					v, found = mv, true
					break
				}
			}
		}
		if !found {
			return nil
		}
		cur = v
	}
	return cur
}

// cellText renders a JSON value as text: null is empty, objects as JSON.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(stripAttributes(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// stripAttributes drops Salesforce's "attributes" objects for display.
func stripAttributes(v any) any {
	switch x := v.(type) {
	case salesforce.Record:
		return stripAttributes(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			if k != "attributes" {
				out[k] = stripAttributes(vv)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = stripAttributes(vv)
		}
		return out
	}
	return v
}

// recordWriter prints query records in one format.
type recordWriter interface {
	begin(cols []column) error
	write(cols []column, rec salesforce.Record) error
	end() error
}

func rowCells(cols []column, rec salesforce.Record) []string {
	if len(cols) == 0 {
		return []string{cellText(map[string]any(rec))}
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = cellText(lookup(rec, c.path))
	}
	return out
}

func titles(cols []column) []string {
	if len(cols) == 0 {
		return []string{"record"}
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.title
	}
	return out
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

type tableWriter struct {
	tw   *tabwriter.Writer
	w    io.Writer
	head []string
	n    int
}

// tableCell keeps one value on one line of one column.
func tableCell(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func (t *tableWriter) line(cells []string) {
	for i, c := range cells {
		cells[i] = tableCell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *tableWriter) begin(cols []column) error {
	t.head = titles(cols)
	t.line(append([]string(nil), t.head...))
	return nil
}

func (t *tableWriter) write(cols []column, rec salesforce.Record) error {
	t.line(rowCells(cols, rec))
	t.n++
	if t.n%tableBlock == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *tableWriter) end() error { return t.tw.Flush() }

type csvRecordWriter struct{ w *csv.Writer }

func (c *csvRecordWriter) begin(cols []column) error { return c.w.Write(titles(cols)) }

func (c *csvRecordWriter) write(cols []column, rec salesforce.Record) error {
	return c.w.Write(rowCells(cols, rec))
}

func (c *csvRecordWriter) end() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonRecordWriter prints a JSON array, one record per line, as records
// arrive. Records keep every field Salesforce sent, without "attributes".
type jsonRecordWriter struct {
	w     io.Writer
	first bool
}

func (j *jsonRecordWriter) begin([]column) error {
	j.first = true
	_, err := io.WriteString(j.w, "[")
	return err
}

func (j *jsonRecordWriter) write(_ []column, rec salesforce.Record) error {
	b, err := json.Marshal(stripAttributes(map[string]any(rec)))
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.first {
		sep, j.first = "\n", false
	}
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}

func (j *jsonRecordWriter) end() error {
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}
