package ingest

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestNDJSONChangeObjectsAreStrict checks that a file's change objects obey
// the REST ingest API's rules (one codec), while plain records stay plain.
func TestNDJSONChangeObjectsAreStrict(t *testing.T) {
	long := strings.Repeat("k", MaxKeyBytes+1)
	cases := []struct {
		line, bad string
		op        forcesync.Op
		key       string
	}{
		{line: `{"key":"a","fields":{"n":1}}`, key: "a", op: forcesync.OpUpsert},
		{line: `{"key":"a","op":"delete"}`, key: "a", op: forcesync.OpDelete},
		{line: `{"key":"a","op":"disable"}`, key: "a", op: forcesync.OpDisable},
		{line: `{"key":"a","fields":{},"feilds":{}}`, bad: "feilds: unknown property (allowed: key, op, version, fields)"},
		{line: `{"key":"a","op":"upsert"}`, bad: "fields: is required for op upsert"},
		{line: `{"key":"` + long + `","fields":{}}`, bad: "key: is longer than 255 bytes (256 bytes)"},
		{line: `{"key":"a","version":-1,"fields":{}}`, bad: "version: must be a non-negative integer"},
		{line: `{"id":"p1","name":"plain"}`, key: "p1", op: forcesync.OpUpsert},
		{line: `{"id":"` + long + `"}`, bad: `key "id" is longer than 255 bytes`},
		{line: `[1]`, bad: "not a JSON object"},
		{line: `{"id":true}`, bad: `key "id" is a JSON boolean: it must be a string or a number`},
		{line: `{"id":{"x":1}}`, bad: `key "id" is a JSON object: it must be a string or a number`},
		{line: `{"id":null}`, bad: `empty or missing key "id"`},
		{line: "\ufeff" + `{"id":"bom"}`, key: "bom", op: forcesync.OpUpsert},
		// Past float64's range: stored, the record could not be read back.
		{line: `{"key":"a","fields":{"n":1e400}}`, bad: "fields: n: 1e400 is too large a number (numbers go up to about 1.8e308; send it as a string)"},
		{line: `{"id":"p","a":{"b":[1,-2E+999]}}`, bad: "a.b[1]: -2E+999 is too large a number (numbers go up to about 1.8e308; send it as a string)"},
		{line: `{"id":"p","tiny":1e-400,"big":1.7976931348623157e308,"text":"e999"}`, key: "p", op: forcesync.OpUpsert},
	}
	for _, tc := range cases {
		r := NewNDJSON(strings.NewReader(tc.line+"\n"), "src", "id")
		row, err := r.Next()
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if row.Bad != tc.bad {
			t.Errorf("%.60s: bad %q, want %q", tc.line, row.Bad, tc.bad)
			continue
		}
		if tc.bad == "" && (row.Change.Key != tc.key || row.Change.Op != tc.op || row.Change.Source != "src") {
			t.Errorf("%s: change %+v", tc.line, row.Change)
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: want EOF after one row, got %v", tc.line, err)
		}
	}
}

func TestCSVRows(t *testing.T) {
	in := "\ufeffid,name\na,Ada\n,NoKey\nb,\"x\"y\nc,Cy,extra\n" + strings.Repeat("k", MaxKeyBytes+1) + ",Long\nd,\n"
	c, err := NewCSV(strings.NewReader(in), "src", "id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		row, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Bad != "" {
			got = append(got, "bad")
			continue
		}
		got = append(got, row.Change.Key+"="+strings.Join(keysOf(row.Change.Fields), "+"))
	}
	if want := "a=id+name bad bad bad bad d=id"; strings.Join(got, " ") != want {
		t.Fatalf("rows %q, want %q", strings.Join(got, " "), want)
	}
}

// TestCSVKeepsQuotedCRLF: a multi-line value from Windows or Excel keeps
// its "\r\n" (in the fields and in their JSON), in a CRLF file and in an
// LF one, while a row's own "\r\n" leaves nothing in its last cell.
func TestCSVKeepsQuotedCRLF(t *testing.T) {
	for _, end := range []string{"\r\n", "\n"} {
		in := "id,text,note" + end + "a,\"line1\r\nline2\",x" + end + "b,\"one\ntwo\",last" + end
		c, err := NewCSV(strings.NewReader(in), "src", "id")
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			line       int64
			text, note string
			json       string
		}{
			{2, "line1\r\nline2", "x", `{"id":"a","note":"x","text":"line1\r\nline2"}`},
			{4, "one\ntwo", "last", `{"id":"b","note":"last","text":"one\ntwo"}`},
		}
		for _, w := range want {
			row, err := c.Next()
			if err != nil || row.Bad != "" {
				t.Fatalf("row end %q: %v %s", end, err, row.Bad)
			}
			f := row.Change.Fields
			if row.Line != w.line || f["text"] != w.text || f["note"] != w.note || string(row.Change.FieldsJSON) != w.json {
				t.Errorf("row end %q: line %d fields %q json %s, want line %d text %q note %q json %s",
					end, row.Line, f, row.Change.FieldsJSON, w.line, w.text, w.note, w.json)
			}
		}
		if _, err := c.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("row end %q: want EOF, got %v", end, err)
		}
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for _, k := range []string{"id", "name"} {
		if _, ok := m[k]; ok {
			ks = append(ks, k)
		}
	}
	return ks
}

// FuzzNDJSON: any input yields rows or an I/O error, never a panic, and a
// good row always has a key within the limit.
func FuzzNDJSON(f *testing.F) {
	f.Add(`{"key":"a","fields":{"n":1}}` + "\n" + `{"id":"b"}`)
	f.Add(`{"key":1,"op":"delete"}`)
	f.Add("\n\n{")
	f.Fuzz(func(t *testing.T, s string) {
		r := NewNDJSON(strings.NewReader(s), "src", "id")
		for i := 0; i < 1000; i++ {
			row, err := r.Next()
			if err != nil {
				return
			}
			if row.Bad == "" && (row.Change.Key == "" || len(row.Change.Key) > MaxKeyBytes) {
				t.Fatalf("good row with key %q", row.Change.Key)
			}
		}
	})
}

// FuzzCSVFieldsJSON: the fields JSON the CSV reader writes itself is byte
// for byte what json.Marshal makes of the row's fields map (the store
// compares stored fields by their bytes), whatever the header and cells:
// repeated columns, HTML characters, control bytes, invalid UTF-8.
func FuzzCSVFieldsJSON(f *testing.F) {
	f.Add("id,name,name,b\n1,x,,<a&b>\n2,,y,\"q\"\"\"\n")
	f.Add("id,z,a\nk,\u2028\xff,\t\n")
	f.Add("id,é,E\nk,ü,\x01\n")
	f.Add("id,t\r\nk,\"a\r\nb\"\r\nl,\"\r\"\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := NewCSV(strings.NewReader(s), "src", "id")
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			row, err := c.Next()
			if err != nil {
				return
			}
			if row.Bad != "" {
				continue
			}
			want, err := json.Marshal(row.Change.Fields)
			if err != nil {
				t.Fatal(err)
			}
			if string(row.Change.FieldsJSON) != string(want) {
				t.Fatalf("fields JSON %s, json.Marshal %s", row.Change.FieldsJSON, want)
			}
		}
	})
}
