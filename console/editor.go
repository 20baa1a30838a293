package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
	"go.yaml.in/yaml/v3"
)

// Describer gives the mapping editor the org's objects and fields.
type Describer interface {
	Objects(ctx context.Context, connection string) ([]salesforce.SObjectInfo, error)
	Describe(ctx context.Context, connection, object string) (*salesforce.SObjectDescribe, error)
}

// ConfigFile is the config the editor writes (serve's --config).
type ConfigFile interface {
	// Read returns the file's text and its name.
	Read() (data []byte, name string, err error)
	// Write replaces the file atomically, keeping the old text as a
	// backup whose name it returns.
	Write(data []byte) (backup string, err error)
}

// editorRow is one field row of the editor's form.
type editorRow struct{ Target, Source, Default string }

// editorForm is the mapping editor's state, carried by the form itself.
type editorForm struct {
	Name, Source, Connection, Object string
	MatchKind, MatchField            string
	Rows                             []editorRow
	Sources                          []string
	Connections                      []string
	Objects                          []salesforce.SObjectInfo
	Fields                           []salesforce.Field
	SourceFields                     []string
	SampleKey                        string
	Problems                         []string
	Preview                          string
	YAML                             string
	Plan                             string
	Saved                            string
}

func (c *Console) editorAvailable() bool {
	return c.cfg.Describer != nil && c.cfg.ConfigFile != nil
}

func (c *Console) handleEditor(w http.ResponseWriter, r *http.Request) {
	if !c.editorAvailable() {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "the mapping editor needs serve's config file and a connection"))
		return
	}
	f := &editorForm{MatchKind: "external_id"}
	if len(c.cfg.Sources) > 0 {
		f.Source = c.cfg.Sources[0].Name
	}
	if len(c.cfg.Connections) > 0 {
		f.Connection = c.cfg.Connections[0].Name
	}
	c.fillEditor(r.Context(), f, false)
	c.render(w, r, http.StatusOK, "editor.html", &pageData{Title: "New mapping", Nav: "mappings", Page: f})
}

// handleEditorPost checks the form (action=check) or checks and saves it
// (action=save). Every check runs on the config text that would be saved.
func (c *Console) handleEditorPost(w http.ResponseWriter, r *http.Request) {
	if !c.editorAvailable() {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "the mapping editor needs serve's config file and a connection"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	pf := r.PostForm
	f := &editorForm{Name: strings.TrimSpace(pf.Get("name")), Source: pf.Get("source"), Connection: pf.Get("connection"),
		Object: pf.Get("object"), MatchKind: pf.Get("match_kind"), MatchField: pf.Get("match_field")}
	targets, sources, defaults := pf["row_target"], pf["row_source"], pf["row_default"]
	for i := range targets {
		row := editorRow{Target: targets[i]}
		if i < len(sources) {
			row.Source = strings.TrimSpace(sources[i])
		}
		if i < len(defaults) {
			row.Default = defaults[i]
		}
		if row.Target != "" || row.Source != "" || row.Default != "" {
			f.Rows = append(f.Rows, row)
		}
	}
	text := c.fillEditor(r.Context(), f, true)
	// The form comes back with its problems listed: a page like any
	// other, so 200 (the problems are not an HTTP failure).
	status := http.StatusOK
	if pf.Get("action") == "save" && len(f.Problems) == 0 && text != nil {
		backup, err := c.cfg.ConfigFile.Write(text)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		f.Saved = "Saved. The previous config is kept as " + backup + "."
		if c.cfg.Reload != nil {
			if err := c.cfg.Reload(r.Context()); err != nil {
				f.Problems = append(f.Problems, "The config was saved but serve could not load it: "+err.Error())
				status = http.StatusInternalServerError
			} else {
				f.Saved += " serve loaded it: the mapping runs now; queued work was kept."
			}
		} else {
			f.Saved += " Restart serve to run it."
		}
		c.cfg.Logger.Info("console: mapping saved", "user", user(r), "mapping", f.Name, "backup", backup)
	}
	c.render(w, r, status, "editor.html", &pageData{Title: "New mapping", Nav: "mappings", Page: f})
}

// fillEditor loads what the form offers (objects, fields, sample source
// records) and, when check is set, builds the config text the form would
// save, checks it (config rules, then mapping.Compile against the
// describe) and previews one sample record's payload. It returns the text,
// or nil when it cannot be built.
func (c *Console) fillEditor(ctx context.Context, f *editorForm, check bool) []byte {
	for _, s := range c.cfg.Sources {
		f.Sources = append(f.Sources, s.Name)
	}
	for _, conn := range c.cfg.Connections {
		f.Connections = append(f.Connections, conn.Name)
	}
	var err error
	if f.Objects, err = c.cfg.Describer.Objects(ctx, f.Connection); err != nil {
		f.Problems = append(f.Problems, "Listing the org's objects failed: "+err.Error())
	}
	var desc *salesforce.SObjectDescribe
	if f.Object != "" {
		if desc, err = c.cfg.Describer.Describe(ctx, f.Connection, f.Object); err != nil {
			f.Problems = append(f.Problems, "Describing "+f.Object+" failed: "+err.Error())
		} else {
			f.Fields = desc.Fields
		}
	}
	// Sample records of the source give the source fields and the preview.
	var samples []forcesync.SourceRecord
	if f.Source != "" {
		samples, err = c.cfg.Store.SourceRecords(ctx, forcesync.SourceQuery{Source: f.Source, Limit: 20})
		if err != nil {
			f.Problems = append(f.Problems, "Reading sample records failed: "+err.Error())
		}
		seen := map[string]bool{}
		for _, s := range samples {
			for k := range s.Fields {
				if !seen[k] {
					seen[k] = true
					f.SourceFields = append(f.SourceFields, k)
				}
			}
		}
		slices.Sort(f.SourceFields)
	}
	// Offer the required fields first when the form has no rows yet.
	if len(f.Rows) == 0 && desc != nil {
		for _, fd := range desc.Fields {
			if fd.RequiredOnCreate() {
				f.Rows = append(f.Rows, editorRow{Target: fd.Name})
			}
		}
	}
	blank := 3
	defer func() {
		for range blank {
			f.Rows = append(f.Rows, editorRow{})
		}
	}()
	if !check {
		return nil
	}
	if f.Object == "" {
		f.Problems = append(f.Problems, "Choose the Salesforce object, then Check to load its fields.")
		return nil
	}
	my := config.MappingYAML{Name: f.Name, Source: f.Source, Connection: f.Connection, Object: f.Object}
	switch f.MatchKind {
	case "external_id":
		my.Match = map[string]any{"external_id": f.MatchField}
	case "fields":
		my.Match = map[string]any{"fields": []string{f.MatchField}}
	default:
		f.Problems = append(f.Problems, "Choose how records find their Salesforce twin.")
		return nil
	}
	for _, row := range f.Rows {
		my.Fields = append(my.Fields, config.RowYAML{Target: row.Target, Source: row.Source, Default: row.Default})
	}
	snippet, err := yaml.Marshal([]config.MappingYAML{my})
	if err == nil {
		f.YAML = "mappings:\n" + indent(string(snippet))
	}
	if c.mappingByName(f.Name) != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("A mapping named %q exists; choose another name (the editor creates mappings).", f.Name))
		return nil
	}
	data, name, err := c.cfg.ConfigFile.Read()
	if err != nil {
		f.Problems = append(f.Problems, "Reading the config failed: "+err.Error())
		return nil
	}
	text, err := config.SetMapping(data, my)
	if err != nil {
		f.Problems = append(f.Problems, err.Error())
		return nil
	}
	cfg, err := config.Parse(text, name)
	if err != nil {
		var list config.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				f.Problems = append(f.Problems, e.Error())
			}
		} else {
			f.Problems = append(f.Problems, err.Error())
		}
		return nil
	}
	var m forcesync.Mapping
	for _, cm := range cfg.Mappings {
		if cm.Name == f.Name {
			m = cm
		}
	}
	comp, err := mapping.Compile(m, desc)
	if err != nil {
		var ce *mapping.CompileError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				if p.Field != "" {
					f.Problems = append(f.Problems, p.Field+": "+p.Message)
				} else {
					f.Problems = append(f.Problems, p.Message)
				}
			}
		} else {
			f.Problems = append(f.Problems, err.Error())
		}
		return nil
	}
	if len(samples) > 0 {
		s := samples[0]
		f.SampleKey = s.Key
		if pl, err := comp.PayloadFor(s.Key, s.Fields, true); err != nil {
			f.Preview = "This record would be held: " + err.Error()
		} else if b, err := json.MarshalIndent(pl.Fields, "", "  "); err == nil {
			f.Preview = string(b)
		}
	}
	if n, err := c.cfg.Store.CountSourceRecords(ctx, forcesync.SourceQuery{Source: f.Source}); err == nil {
		f.Plan = fmt.Sprintf("Saving adds mapping %s: the %d stored records of source %s are pushed to %s as they next change; new changes are pushed at once.",
			f.Name, n, f.Source, f.Object)
	}
	return text
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
