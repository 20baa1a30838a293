package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/internal/testrig"

	"github.com/forcesync/forcesync"
)

// spoil adds a number past float64's range to the stored record
// source/key, past every door, as data stored by an older release.
func (f *fixture) spoil(source, key string) {
	f.t.Helper()
	testrig.Spoil(f.t, f.path, source, key)
}

// TestSearchShowsUnreadableRecords: a record whose stored fields cannot be
// read back is found by email and by key, shown as unreadable with the
// field named and a link to its page, instead of an error page; the other
// records are found as before.
func TestSearchShowsUnreadableRecords(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "ada@example.com")
	if _, err := f.store.Accept(context.Background(), nil, []forcesync.Change{{Source: "contact", Key: "k2", Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": "bob@example.com", "last_name": "Baker"}}}); err != nil {
		t.Fatal(err)
	}
	f.spoil("contact", "k2")
	for _, q := range []string{"bob@example.com", "k2"} {
		res := f.do("GET", "/records?q="+url.QueryEscape(q), nil, ck, nil)
		html := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(html, `href="/records/contact/k2"`) ||
			!strings.Contains(html, `unreadable</span>: stored field n holds 1e400`) {
			t.Fatalf("search %q with an unreadable record (%d):\n%s", q, res.StatusCode, html)
		}
	}
	html := body(t, f.do("GET", "/records?q="+url.QueryEscape("ada@example.com"), nil, ck, nil))
	if !strings.Contains(html, `href="/records/contact/k1"`) || strings.Contains(html, "unreadable") {
		t.Fatalf("search of a readable record:\n%s", html)
	}
}

// TestEditorSamplesSkipUnreadableRecords: the mapping editor previews the
// readable records of its source and does not offer an unreadable one;
// asked for it, it says why and previews another.
func TestEditorSamplesSkipUnreadableRecords(t *testing.T) {
	f, _ := newEditorFixture(t)
	ck := f.signIn()
	if _, err := f.store.Accept(context.Background(), nil, []forcesync.Change{{Source: "contact", Key: "p0", Op: forcesync.OpUpsert,
		Fields: map[string]any{"last_name": "Byron"}}}); err != nil {
		t.Fatal(err)
	}
	f.spoil("contact", "p0")
	html := body(t, f.do("GET", "/mappings/leads/edit", nil, ck, nil))
	if strings.Contains(html, "Reading sample records failed") || strings.Contains(html, "<option>p0</option>") ||
		!strings.Contains(html, "<option selected>p1</option>") && !strings.Contains(html, "<option>p1</option>") ||
		!strings.Contains(html, "&#34;LastName&#34;: &#34;Lovelace&#34;") {
		t.Fatalf("editor with an unreadable record:\n%s", html)
	}
	form := newMappingForm("more_leads", [3]string{"LastName", "source", "last_name"})
	form.Set("source", "contact")
	form.Set("sample", "p0")
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, `id="sample-note"`) || !strings.Contains(html, "is unreadable: stored field n holds 1e400") ||
		!strings.Contains(html, "&#34;LastName&#34;: &#34;Lovelace&#34;") {
		t.Fatalf("editor asked to preview the unreadable record:\n%s", html)
	}
}
