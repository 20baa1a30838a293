package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// pageData is what every page template gets; each page fills its part.
type pageData struct {
	Title    string
	Nav      string // which nav entry is current
	User     string
	Message  string // a notice shown at the top
	Error    string // an error shown at the top
	Next     string
	Username string
	NoAdmins bool
	Paused   string
	Page     any // the page's own data
}

var funcs = template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join":       strings.Join,
	"stateClass": func(s forcesync.State) string { return "state-" + string(s) },
	"pathEscape": pathEscape,
	"count":      func(m map[forcesync.State]int, s string) int { return m[forcesync.State(s)] },
	"mulf":       func(a, b float64) float64 { return a * b },
	"list":       func(s ...string) []string { return s },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12] + "…"
		}
		return s
	},
}

// parsePages parses each page with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" || strings.HasPrefix(base, "part-") {
			continue
		}
		// part-*.html hold more partials, shared like partials.html.
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/part-*.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes a page; it renders into a buffer first so a template
// error becomes a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, d *pageData) {
	if d.User == "" {
		d.User = user(r)
	}
	if d.User != "" && c.cfg.Engine != nil && d.Paused == "" {
		d.Paused = c.cfg.Engine.Paused()
	}
	t := c.pages[page]
	var buf bytes.Buffer
	if t == nil {
		c.cfg.Logger.Error("console: no template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, d); err != nil {
		c.cfg.Logger.Error("console: rendering", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// serverError logs err and shows a page without its details.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	code := forcesync.ErrorCode(err)
	status := http.StatusInternalServerError
	msg := "Something went wrong; the server's log has the details."
	switch code {
	case forcesync.ENotFound:
		status, msg = http.StatusNotFound, forcesync.ErrorMessage(err)
	case forcesync.EInvalid, forcesync.EConflict:
		status, msg = http.StatusBadRequest, forcesync.ErrorMessage(err)
	case forcesync.EUnavailable:
		status = http.StatusServiceUnavailable
	}
	if status >= 500 {
		c.cfg.Logger.Error("console: request failed", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error.html", &pageData{Title: http.StatusText(status), Error: msg})
}

func errNotServed(what string) error {
	return forcesync.Errorf(forcesync.ENotFound, "%s is not served here", what)
}

func (c *Console) handleNotFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusNotFound, "error.html", &pageData{Title: "Not found",
		Error: "There is no page at " + r.URL.Path + "."})
}

// pathEscape makes a key one path segment (a / in it included).
func pathEscape(s string) string { return url.PathEscape(s) }
