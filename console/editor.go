package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// Describer gives the mapping editor the org's objects and fields.
type Describer interface {
	Objects(ctx context.Context, connection string) ([]salesforce.SObjectInfo, error)
	Describe(ctx context.Context, connection, object string) (*salesforce.SObjectDescribe, error)
}

// NameResolver is an optional capability of a Describer: it replaces the
// names a User mapping gives for ProfileId and UserRoleId (Standard User)
// by the Ids of the org's records so named, as serve does before it
// compiles a mapping. Without it the editor's type check refuses a name
// where the describe wants an Id.
type NameResolver interface {
	ResolveNames(ctx context.Context, connection string, m forcesync.Mapping) (forcesync.Mapping, error)
}

// ConfigFile is the config the editor writes (serve's --config).
type ConfigFile interface {
	// Read returns the file's text and its name.
	Read() (data []byte, name string, err error)
	// Write replaces the file atomically, keeping the old text as a
	// backup whose name it returns.
	Write(data []byte) (backup string, err error)
}

// editorForm is the mapping editor's state, carried by the form itself.
type editorForm struct {
	// Editing is set when the form edits the existing mapping Name (its
	// name is then fixed); otherwise it creates one.
	Editing                          bool
	Name, Source, Connection, Object string
	Direction, Mode, Filter          string
	MatchKind, MatchField            string
	Rows                             []editorRow
	Sources                          []string
	Connections                      []string
	Objects                          []salesforce.SObjectInfo
	Fields                           []salesforce.Field
	SourceFields                     []string
	// Sample is the key of the record previewed; SampleKeys the choice;
	// SampleNote says why another record than the one asked is shown.
	Sample     string
	SampleKeys []string
	SampleNote string
	// Warnings say what the preview's payload changed to fit.
	Warnings []string
	Problems []string
	Preview  string
	YAML     string
	Plan     *MappingPlan
	PlanNote string
	Saved    string
}

// Action is where the form posts.
func (f *editorForm) Action() string {
	if f.Editing {
		return "/mappings/" + pathEscape(f.Name) + "/edit"
	}
	return "/mappings/new"
}

// Title names the page.
func (f *editorForm) Title() string {
	if f.Editing {
		return "Edit mapping " + f.Name
	}
	return "New mapping"
}

func (c *Console) editorAvailable() bool {
	return c.cfg.Describer != nil && c.cfg.ConfigFile != nil
}

var errNoEditor = forcesync.Errorf(forcesync.ENotFound, "the mapping editor needs serve's config file and a connection")

func (c *Console) handleEditor(w http.ResponseWriter, r *http.Request) {
	if !c.editorAvailable() {
		c.serverError(w, r, errNoEditor)
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
	c.render(w, r, http.StatusOK, "editor.html", &pageData{Title: f.Title(), Nav: "mappings", Page: f})
}

// handleEditMapping opens an existing mapping in the editor, as the
// config file has it, checked, previewed and planned at once.
func (c *Console) handleEditMapping(w http.ResponseWriter, r *http.Request) {
	if !c.editorAvailable() {
		c.serverError(w, r, errNoEditor)
		return
	}
	name := r.PathValue("name")
	data, _, err := c.cfg.ConfigFile.Read()
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	my, ok, err := config.LoadMapping(data, name)
	if err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "%s", err.Error()))
		return
	}
	if !ok {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "the config file has no mapping %q", name))
		return
	}
	f := formFromYAML(my)
	f.Sample = r.URL.Query().Get("sample")
	if f.Connection == "" && len(c.cfg.Connections) > 0 {
		f.Connection = c.cfg.Connections[0].Name
	}
	c.fillEditor(r.Context(), f, true)
	c.render(w, r, http.StatusOK, "editor.html", &pageData{Title: f.Title(), Nav: "mappings", Page: f})
}

// handleEditorPost checks the form (action=check) or checks and saves it
// (action=save), for a new mapping (POST /mappings/new) or an existing one
// (POST /mappings/{name}/edit). Every check runs on the config text that
// would be saved.
func (c *Console) handleEditorPost(w http.ResponseWriter, r *http.Request) {
	if !c.editorAvailable() {
		c.serverError(w, r, errNoEditor)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	f := formFromPost(r)
	if name := r.PathValue("name"); name != "" {
		f.Editing, f.Name = true, name
	}
	text := c.fillEditor(r.Context(), f, true)
	// The form comes back with its problems listed: a page like any
	// other, so 200 (the problems are not an HTTP failure).
	status := http.StatusOK
	if r.PostForm.Get("action") == "save" && len(f.Problems) == 0 && text != nil {
		status = c.saveConfig(r, f, text)
	}
	c.render(w, r, status, "editor.html", &pageData{Title: f.Title(), Nav: "mappings", Page: f})
}

// saveConfig writes text (backup first) and asks serve to reload it.
func (c *Console) saveConfig(r *http.Request, f *editorForm, text []byte) int {
	backup, err := c.cfg.ConfigFile.Write(text)
	if err != nil {
		c.cfg.Logger.Error("console: saving the config failed", "err", err)
		f.Problems = append(f.Problems, "Saving the config failed: "+err.Error())
		return http.StatusInternalServerError
	}
	f.Saved = "Saved. The previous config is kept as " + backup + "."
	c.cfg.Logger.Info("console: mapping saved", "user", user(r), "mapping", f.Name, "edit", f.Editing, "backup", backup)
	if c.cfg.Reload == nil {
		f.Saved += " Restart serve to run it."
		return http.StatusOK
	}
	if err := c.cfg.Reload(r.Context()); err != nil {
		f.Problems = append(f.Problems, "The config was saved but serve could not load it: "+err.Error())
		return http.StatusInternalServerError
	}
	f.Saved += " serve loaded it: the mapping runs now; queued work was kept."
	// serve runs the mapping now: the form goes on as its editor, so a
	// further Save edits it rather than being refused as a second one of
	// the same name.
	f.Editing = true
	return http.StatusOK
}

// fillEditor loads what the form offers (objects, fields, sample source
// records) and, when check is set, builds the config text the form would
// save, checks it (config rules, then mapping.Compile against the
// describe), previews one sample record's payload and plans the change.
// It returns the text, or nil when it cannot be built.
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
	samples := c.samples(ctx, f)
	// Offer the required fields first when the form has no rows yet.
	if len(f.Rows) == 0 && desc != nil {
		for _, fd := range desc.Fields {
			if fd.RequiredOnCreate() {
				f.Rows = append(f.Rows, editorRow{Target: fd.Name, Kind: "source"})
			}
		}
	}
	defer func() {
		for range 3 {
			f.Rows = append(f.Rows, editorRow{Kind: "source"})
		}
	}()
	if !check {
		return nil
	}
	if f.Object == "" {
		f.Problems = append(f.Problems, "Choose the Salesforce object, then Check to load its fields.")
		return nil
	}
	my, ok := f.toYAML()
	if !ok {
		return nil
	}
	exists := c.mappingByName(f.Name) != nil
	switch {
	case f.Editing && !exists:
		f.Problems = append(f.Problems, fmt.Sprintf("serve runs no mapping named %q; reload or restart it first.", f.Name))
		return nil
	case !f.Editing && exists:
		f.Problems = append(f.Problems, fmt.Sprintf("A mapping named %q exists; choose another name, or edit it from the mappings page.", f.Name))
		return nil
	}
	data, name, err := c.cfg.ConfigFile.Read()
	if err != nil {
		f.Problems = append(f.Problems, "Reading the config failed: "+err.Error())
		return nil
	}
	if f.Editing && len(c.cfg.Connections) > 0 && my.Connection == c.cfg.Connections[0].Name {
		// The form shows the default connection by name; a file that
		// left it implicit keeps it so.
		if old, ok, _ := config.LoadMapping(data, f.Name); ok && old.Connection == "" {
			my.Connection = ""
		}
	}
	text, err := config.SetMapping(data, my)
	if err != nil {
		f.Problems = append(f.Problems, err.Error())
		return nil
	}
	f.YAML = config.MappingText(text, f.Name)
	cfg, err := config.Parse(text, name)
	if err != nil {
		f.problems(err, config.MappingIndex(text, f.Name))
		return nil
	}
	m := *cfg.Mapping(f.Name)
	cm := m // compiled with the org's Ids for names; m, as written, is planned
	if nr, ok := c.cfg.Describer.(NameResolver); ok {
		if cm, err = nr.ResolveNames(ctx, f.Connection, m); err != nil {
			f.Problems = append(f.Problems, err.Error())
			return nil
		}
	}
	comp, err := mapping.Compile(cm, desc)
	if err != nil {
		var ce *mapping.CompileError
		if !errors.As(err, &ce) {
			f.Problems = append(f.Problems, err.Error())
			return nil
		}
		for _, p := range ce.Problems {
			if p.Field == "" {
				f.Problems = append(f.Problems, p.Message)
				continue
			}
			f.Problems = append(f.Problems, p.Field+": "+p.Message)
			for i := range f.Rows {
				if strings.EqualFold(f.Rows[i].Target, p.Field) {
					f.Rows[i].addProblem(p.Message)
				}
			}
		}
		return nil
	}
	f.preview(comp, samples)
	c.planChange(ctx, f, m)
	return text
}

// samples reads stored records of the form's source: the source fields
// offered, the keys to preview, and the records. Records whose stored
// fields cannot be read back are left out: there is nothing to preview.
func (c *Console) samples(ctx context.Context, f *editorForm) []forcesync.SourceRecord {
	if f.Source == "" {
		return nil
	}
	listed, err := c.cfg.Store.SourceRecords(ctx, forcesync.SourceQuery{Source: f.Source, Limit: 20})
	if err != nil {
		f.Problems = append(f.Problems, "Reading sample records failed: "+err.Error())
		return nil
	}
	samples := slices.DeleteFunc(listed, func(s forcesync.SourceRecord) bool { return s.Unreadable != nil })
	if f.Sample != "" && !slices.ContainsFunc(samples, func(s forcesync.SourceRecord) bool { return s.Key == f.Sample }) {
		rec, err := c.cfg.Store.SourceRecord(ctx, f.Source, f.Sample)
		if re, ok := errors.AsType[*forcesync.RecordError](err); ok && re.Code == forcesync.CodeUnreadableRecord {
			f.SampleNote = fmt.Sprintf("Record %q of source %s is unreadable: %s. The preview shows another.", f.Sample, f.Source, re.Message)
			f.Sample = ""
		} else if err == nil {
			samples = append([]forcesync.SourceRecord{*rec}, samples...)
		} else {
			// Not a problem of the mapping (the source was changed since the
			// sample was chosen, or the record is gone): preview another.
			f.SampleNote = fmt.Sprintf("Source %s has no stored record %q; the preview shows another.", f.Source, f.Sample)
			f.Sample = ""
		}
	}
	seen := map[string]bool{}
	for _, s := range samples {
		f.SampleKeys = append(f.SampleKeys, s.Key)
		for k := range s.Fields {
			if !seen[k] {
				seen[k] = true
				f.SourceFields = append(f.SourceFields, k)
			}
		}
	}
	slices.Sort(f.SourceFields)
	return samples
}

// preview shows the payload the mapping makes of the chosen sample (the
// first when none is chosen), as a create when unbound.
func (f *editorForm) preview(comp *mapping.Compiled, samples []forcesync.SourceRecord) {
	if len(samples) == 0 {
		f.Preview = ""
		return
	}
	s := samples[0]
	for _, x := range samples {
		if x.Key == f.Sample {
			s = x
		}
	}
	f.Sample = s.Key
	if ok, err := comp.Filter(s.Fields); err != nil {
		f.Preview = "The filter fails on this record: " + err.Error()
		return
	} else if !ok {
		f.Preview = "The mapping's filter skips this record."
		return
	}
	pl, err := comp.PayloadFor(s.Key, s.Fields, true)
	if err != nil {
		f.Preview = "This record would be held: " + err.Error()
		return
	}
	if b, err := json.MarshalIndent(pl.Fields, "", "  "); err == nil {
		f.Preview, f.Warnings = string(b), pl.Warnings
	}
}

// planChange plans the edited mapping: what the next push would do once
// it is saved (for a changed mapping, its held records come back).
func (c *Console) planChange(ctx context.Context, f *editorForm, m forcesync.Mapping) {
	if c.cfg.Inspect == nil {
		return
	}
	p, err := c.cfg.Inspect.PlanMapping(ctx, m)
	if err != nil {
		f.PlanNote = "No plan: " + err.Error()
		return
	}
	f.Plan = p
	if !f.Editing {
		if n, err := c.cfg.Store.CountSourceRecords(ctx, forcesync.SourceQuery{Source: f.Source}); err == nil {
			f.PlanNote = fmt.Sprintf("A new mapping starts empty: the %d stored records of source %s are pushed to %s as they next change; new changes are pushed at once.",
				n, f.Source, f.Object)
		}
	}
}

// formLabels name the editor's inputs by the mapping key they write.
var formLabels = map[string]string{"name": "Name", "source": "Source", "connection": "Connection", "object": "Salesforce object",
	"direction": "Direction", "mode": "Mode", "filter": "Filter", "match": "Match"}

// rowPathRe reads a problem's path inside the edited mapping: its row.
var rowPathRe = regexp.MustCompile(`^fields\[(\d+)\]`)

// problems lists a config error's problems one by one. A problem of the
// edited mapping (the index-th of the file; -1 when not known) is said
// with the form's label, and a row's is put on its row too, rather than
// by the line and path of a file the admin is not looking at. Problems
// elsewhere in the file are said as the file has them.
func (f *editorForm) problems(err error, index int) {
	var list config.ErrorList
	var one *config.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = config.ErrorList{one}
	default:
		f.Problems = append(f.Problems, err.Error())
		return
	}
	prefix := fmt.Sprintf("mappings[%d]", index)
	for _, e := range list {
		_, path, _ := strings.Cut(e.Pos, ": ")
		rest, ours := strings.CutPrefix(path, prefix)
		if index < 0 || !ours || (rest != "" && rest[0] != '.') {
			f.Problems = append(f.Problems, e.Error())
			continue
		}
		rest = strings.TrimPrefix(rest, ".")
		if m := rowPathRe.FindStringSubmatch(rest); m != nil {
			if j, _ := strconv.Atoi(m[1]); j < len(f.Rows) {
				if f.Rows[j].formChecked {
					continue
				}
				f.Rows[j].addProblem(e.Msg)
				f.Problems = append(f.Problems, f.Rows[j].name(j)+": "+e.Msg)
				continue
			}
		}
		key, _, _ := strings.Cut(rest, ".")
		label := formLabels[key]
		if label == "" {
			label = "The mapping"
		}
		f.Problems = append(f.Problems, label+": "+e.Msg)
	}
}
