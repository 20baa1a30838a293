package csvcr

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readAll reads every record of in, as the file readers do (rows of any
// width, going on after a refused row), wrapped or not, and returns the
// records and errors in the order met.
func readAll(in []byte, comma byte, wrap bool) (recs [][]string, errs []*csv.ParseError, lines []int) {
	var r io.Reader = bytes.NewReader(in)
	if wrap {
		r = Wrap(r, comma)
	}
	cr := csv.NewReader(r)
	cr.Comma = rune(comma)
	cr.FieldsPerRecord = -1
	for range 10_000 {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			errs = append(errs, pe)
			recs = append(recs, nil)
			lines = append(lines, pe.Line)
			continue
		}
		if err != nil {
			return
		}
		if wrap {
			Restore(rec)
		}
		line, _ := cr.FieldPos(0)
		lines = append(lines, line)
		recs = append(recs, rec)
	}
	return
}

func TestQuotedCarriageReturnsKept(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     [][]string
	}{
		{"LF rows", "k,note\n1,\"line1\r\nline2\"\n2,plain\n", [][]string{{"k", "note"}, {"1", "line1\r\nline2"}, {"2", "plain"}}},
		{"CRLF rows", "k,note\r\n1,\"line1\r\nline2\"\r\n2,plain\r\n", [][]string{{"k", "note"}, {"1", "line1\r\nline2"}, {"2", "plain"}}},
		{"lone CR in a value", "k,note\r\n1,\"a\rb\"\r\n", [][]string{{"k", "note"}, {"1", "a\rb"}}},
		{"quotes around a CRLF", "1,\"say \"\"hi\"\"\r\nbye\",x\r\n", [][]string{{"1", "say \"hi\"\r\nbye", "x"}}},
		{"NUL kept", "1,\"a\x00r\r\n\",b\x00\x00\n", [][]string{{"1", "a\x00r\r\n", "b\x00\x00"}}},
		{"no final row end", "1,\"a\r\nb\"", [][]string{{"1", "a\r\nb"}}},
		{"CR ending an unquoted field is the row's end", "a,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs, _ := readAll([]byte(tc.in), ',', true)
			if len(errs) > 0 {
				t.Fatalf("errors %v", errs)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("records %q, want %q", got, tc.want)
			}
			for i := range got {
				if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") || len(got[i]) != len(tc.want[i]) {
					t.Fatalf("record %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestRefusedRowsDoNotShiftTheQuoting: after a row the reader refuses (a
// bare quote, text after a closing quote), the next line is a new row,
// so a CRLF row end outside quotes stays a row end and no "\r" reaches
// the next rows' values.
func TestRefusedRowsDoNotShiftTheQuoting(t *testing.T) {
	in := "a,b\"c,d\r\ne,f\r\n\"g\"h,i\r\nj,\"k\r\nl\"\r\nm,n\r\n"
	got, errs, _ := readAll([]byte(in), ',', true)
	if len(errs) != 2 {
		t.Fatalf("errors %v, want the two refused rows", errs)
	}
	want := []string{"", "e|f", "", "j|k\r\nl", "m|n"}
	if len(got) != len(want) {
		t.Fatalf("records %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != want[i] {
			t.Fatalf("record %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// FuzzAgainstEncodingCSV: through Wrap and Restore, encoding/csv reads
// the same rows and refuses the same ones on the same lines as without;
// values differ only where a quoted "\r\n" is kept (folded to "\n", they
// are equal). Input without a "\r" or a NUL passes unchanged, error
// columns included.
func FuzzAgainstEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"k,v\n1,\"a\r\nb\"\n", "k,v\r\n1,\"a\r\nb\"\r\n", "a,b\"c\r\nd,e\r\n", "\"a\"x,b\r\nc,\"d\r\n\"\r\n",
		"\"\r\n\"\r\n", "a\x00r,\"\x00\r\"\n", "\"a\"\r", "\"a\"\"\r\nb\"\r\n", ",\r\n,\"\"\r\n", "\"abc",
	} {
		f.Add([]byte(s), byte(','))
	}
	f.Add([]byte("a;\"b\r\nc\";d\r\n"), byte(';'))
	f.Add([]byte("a\t\"b\r\nc\"\r\n"), byte('\t'))
	f.Fuzz(func(t *testing.T, in []byte, comma byte) {
		switch comma {
		case ',', ';', '\t', '|', '^', '`':
		default:
			comma = ','
		}
		plain, perrs, plines := readAll(in, comma, false)
		wrapped, werrs, wlines := readAll(in, comma, true)
		if len(plain) != len(wrapped) || len(perrs) != len(werrs) {
			t.Fatalf("plain %q (errors %v), wrapped %q (errors %v)", plain, perrs, wrapped, werrs)
		}
		for i := range plain {
			if plines[i] != wlines[i] {
				t.Fatalf("record %d on line %d plain, %d wrapped", i, plines[i], wlines[i])
			}
			if len(plain[i]) != len(wrapped[i]) {
				t.Fatalf("record %d: plain %q, wrapped %q", i, plain[i], wrapped[i])
			}
			for j := range plain[i] {
				if strings.ReplaceAll(wrapped[i][j], "\r\n", "\n") != plain[i][j] {
					t.Fatalf("record %d value %d: plain %q, wrapped %q", i, j, plain[i][j], wrapped[i][j])
				}
			}
		}
		clean := !bytes.ContainsAny(in, "\r\x00")
		for i := range perrs {
			if perrs[i].Err != werrs[i].Err || perrs[i].Line != werrs[i].Line || perrs[i].StartLine != werrs[i].StartLine ||
				clean && perrs[i].Column != werrs[i].Column {
				t.Fatalf("error %d: plain %v, wrapped %v", i, perrs[i], werrs[i])
			}
		}
	})
}

// BenchmarkRead reads 100,000 rows of a Lead file (one quoted value in
// ten), plain and through Wrap and Restore.
func BenchmarkRead(b *testing.B) {
	var in bytes.Buffer
	in.WriteString("Forcesync_Key__c,FirstName,LastName,Email,Company\r\n")
	for i := range 100_000 {
		company := "Company"
		if i%10 == 0 {
			company = "\"Company, Inc.\r\nEurope\""
		}
		fmt.Fprintf(&in, "k%08d,First%d,Last%d,user%d@example.com,%s\r\n", i, i, i, i, company)
	}
	for _, wrap := range []bool{false, true} {
		b.Run(fmt.Sprintf("wrap=%v", wrap), func(b *testing.B) {
			b.SetBytes(int64(in.Len()))
			for b.Loop() {
				var r io.Reader = bytes.NewReader(in.Bytes())
				if wrap {
					r = Wrap(r, ',')
				}
				cr := csv.NewReader(r)
				cr.ReuseRecord = true
				for {
					rec, err := cr.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if wrap {
						Restore(rec)
					}
				}
			}
		})
	}
}
