package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Persistence. With Config.DataFile set, the org (custom schema, records,
// recycle bin and delete log, API usage, passwords, refresh tokens) is
// saved as one JSON document, atomically (temporary file + rename), and
// loaded by New. Saves are debounced: the first change after a save
// schedules the next one after saveDelay, or ten times the last save's
// duration if longer, so a bulk load is not slowed by saving; Close saves
// whatever is pending.

const (
	dataFormat = 1
	saveDelay  = time.Second
)

// persistState is the saver's state. Its own mutex orders saves; the org is
// read under e.mu.
type persistState struct {
	mu       sync.Mutex // guards the fields below
	timer    *time.Timer
	lastCost time.Duration
	closed   bool
	saved    uint64 // org.changes at the last save
	saving   sync.Mutex
	err      error // last save error, reported by Close
}

// changedLocked notes a mutation of persisted state and schedules a save.
func (e *Emulator) changedLocked() {
	e.org.changes++
	if e.cfg.DataFile == "" {
		return
	}
	p := &e.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil || p.closed {
		return
	}
	d := max(saveDelay, 10*p.lastCost)
	p.timer = time.AfterFunc(d, func() {
		p.mu.Lock()
		p.timer = nil
		p.mu.Unlock()
		if err := e.save(); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
		}
	})
}

// Close stops the background saver and saves pending changes. The
// emulator keeps serving after Close, but no longer saves.
func (e *Emulator) Close() error {
	// Stop the Bulk API worker first (bulk.go), so no job writes after the save.
	e.closeBulk()
	if e.cfg.DataFile == "" {
		return nil
	}
	p := &e.persist
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.mu.Unlock()
	err := e.save()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		err = p.err
	}
	return err
}

// Save writes the org to Config.DataFile now.
func (e *Emulator) Save() error {
	if e.cfg.DataFile == "" {
		return errors.New("emulator: no data file configured")
	}
	return e.save()
}

func (e *Emulator) save() error {
	p := &e.persist
	p.saving.Lock()
	defer p.saving.Unlock()
	start := time.Now()
	e.mu.RLock()
	changes := e.org.changes
	if changes == p.saved && fileExists(e.cfg.DataFile) {
		e.mu.RUnlock()
		return nil
	}
	data, err := e.encodeLocked()
	e.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(e.cfg.DataFile, data); err != nil {
		return err
	}
	p.mu.Lock()
	p.saved = changes
	p.lastCost = time.Since(start)
	p.mu.Unlock()
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path, so a crash leaves the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save emulator data: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("save emulator data to %s: %w", path, werr)
	}
	return nil
}

// --- file format ---------------------------------------------------------------

// dataFile is the saved document. Records are stored sparsely per object:
// each row is [id, deletedAtMillis (0 = live), fieldIndex, value, ...]
// where fieldIndex points into Fields and values are JSON by field type
// (datetimes as Unix milliseconds).
type dataFile struct {
	Format    int                      `json:"format"`
	OrgID     string                   `json:"orgId"`
	Created   int64                    `json:"created"`
	NextID    int64                    `json:"nextId"`
	AdminID   string                   `json:"adminId"`
	APIUsed   int                      `json:"apiUsed"`
	APIMax    int                      `json:"apiMax"`
	Passwords map[string]string        `json:"passwords"`
	Refresh   map[string]*refreshGrant `json:"refresh"`
	Schema    []ObjectConfig           `json:"schema"`
	Objects   []objectData             `json:"objects"`
}

type objectData struct {
	Name      string            `json:"name"`
	Fields    []string          `json:"fields"`
	DeleteLog [][2]any          `json:"deleteLog"`
	Rows      []json.RawMessage `json:"rows"`
}

// customSchemaLocked describes the custom objects and fields as config, so
// a data file alone restores them.
func (e *Emulator) customSchemaLocked() []ObjectConfig {
	var out []ObjectConfig
	for _, obj := range e.org.objects {
		oc := ObjectConfig{Name: obj.Name, Label: obj.Label, LabelPlural: obj.LabelPlural, KeyPrefix: obj.KeyPrefix}
		for _, f := range obj.Fields {
			if !f.Custom {
				continue
			}
			fc := FieldConfig{Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length, Precision: f.Precision,
				Scale: f.Scale, Required: !f.Nillable, Unique: f.Unique, ExternalID: f.ExternalID, CaseSensitive: f.CaseSensitive,
				Restricted: f.RestrictedPicklist, ReferenceTo: f.ReferenceTo}
			if f.Type == "int" {
				fc.Precision = f.Digits
			}
			if f.Type == "reference" {
				fc.Length = 0
			}
			for _, p := range f.Picklist {
				fc.Picklist = append(fc.Picklist, p.Value)
			}
			if f.Default != nil {
				if t, ok := f.Default.(time.Time); ok {
					fc.Default = formatDateTime(t)
				} else {
					fc.Default = f.Default
				}
			}
			oc.Fields = append(oc.Fields, fc)
		}
		if obj.Custom || len(oc.Fields) > 0 {
			out = append(out, oc)
		}
	}
	return out
}

// encodeLocked renders the org as a data file.
func (e *Emulator) encodeLocked() ([]byte, error) {
	o := e.org
	head := dataFile{Format: dataFormat, OrgID: o.id, Created: o.created.UnixMilli(), NextID: o.nextID,
		AdminID: o.adminID, APIUsed: o.apiUsed, APIMax: o.apiMax, Passwords: o.passwords, Refresh: e.refresh,
		Schema: e.customSchemaLocked()}
	hb, err := json.Marshal(head)
	if err != nil {
		return nil, fmt.Errorf("encode emulator data: %w", err)
	}
	var b bytes.Buffer
	// Splice the objects array in place of the empty one Marshal wrote.
	hb = bytes.TrimSuffix(hb, []byte(`"objects":null}`))
	b.Write(hb)
	b.WriteString(`"objects":[`)
	var buf []byte
	for i, obj := range o.objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":`)
		buf = appendJSONString(buf[:0], obj.Name)
		b.Write(buf)
		b.WriteString(`,"fields":[`)
		for j, f := range obj.Fields {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(appendJSONString(buf[:0], f.Name))
		}
		b.WriteString(`],"deleteLog":[`)
		for j, d := range obj.deleteLog {
			if j > 0 {
				b.WriteByte(',')
			}
			buf = append(appendJSONString(append(buf[:0], '['), d.ID), ',')
			buf = strconv.AppendInt(buf, d.At.UnixMilli(), 10)
			b.Write(append(buf, ']'))
		}
		b.WriteString(`],"rows":[`)
		first := true
		for _, r := range obj.rows {
			if r == nil {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			buf = appendJSONString(append(buf[:0], '['), r.ID)
			buf = append(buf, ',')
			if r.deleted {
				buf = strconv.AppendInt(buf, r.deletedAt.UnixMilli(), 10)
			} else {
				buf = append(buf, '0')
			}
			for _, s := range r.slots {
				buf = append(buf, ',')
				buf = strconv.AppendInt(buf, int64(s.pos), 10)
				buf = append(buf, ',')
				buf = appendStoredValue(buf, s.v)
			}
			b.Write(append(buf, ']'))
		}
		b.WriteString(`]}`)
	}
	b.WriteString("]}\n")
	return b.Bytes(), nil
}

// appendStoredValue writes a stored value as JSON (datetimes as Unix ms).
func appendStoredValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return strconv.AppendInt(b, x.UnixMilli(), 10)
	}
	return append(b, "null"...)
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// loadOrSeed loads the org from Config.DataFile when present, else seeds it.
func (e *Emulator) loadOrSeed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.DataFile != "" {
		data, err := os.ReadFile(e.cfg.DataFile)
		switch {
		case err == nil:
			if err := e.loadLocked(data); err != nil {
				return fmt.Errorf("load emulator data %s: %w", e.cfg.DataFile, err)
			}
			if err := e.seedOrganizationLocked(); err != nil { // a file from before Organization
				return fmt.Errorf("load emulator data %s: %w", e.cfg.DataFile, err)
			}
			e.persist.saved = e.org.changes
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("load emulator data: %w", err)
		}
	}
	return e.seedLocked()
}

// loadLocked replaces the seeded state with a data file's.
func (e *Emulator) loadLocked(data []byte) error {
	var df dataFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&df); err != nil {
		return err
	}
	if df.Format != dataFormat {
		return fmt.Errorf("unsupported format %d", df.Format)
	}
	o := e.org
	if e.cfg.OrgID == "" && df.OrgID != "" {
		if id, ok := normalizeID(df.OrgID); ok {
			o.id, o.pod = id, id[3:5]
		}
	}
	if err := o.applyObjectConfig(df.Schema); err != nil {
		return err
	}
	o.created = time.UnixMilli(df.Created).UTC()
	o.nextID = df.NextID
	o.adminID = df.AdminID
	o.apiUsed = df.APIUsed
	if e.cfg.DailyAPIRequests <= 0 && df.APIMax > 0 {
		o.apiMax = df.APIMax
	}
	if df.Passwords != nil {
		o.passwords = df.Passwords
	}
	for k, g := range df.Refresh {
		e.refresh[k] = g
	}
	for _, od := range df.Objects {
		obj := e.sobjectLocked(od.Name)
		if obj == nil {
			return fmt.Errorf("object %s: not in the schema", od.Name)
		}
		cols := make([]*field, len(od.Fields))
		for i, n := range od.Fields {
			cols[i] = obj.field(n) // nil: a field no longer defined; its values are dropped
		}
		for _, d := range od.DeleteLog {
			id, _ := d[0].(string)
			ms, _ := d[1].(json.Number).Int64()
			obj.deleteLog = append(obj.deleteLog, deletion{ID: id, At: time.UnixMilli(ms).UTC()})
		}
		for _, raw := range od.Rows {
			var row []any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&row); err != nil || len(row) < 2 || len(row)%2 != 0 {
				return fmt.Errorf("object %s: bad row %.80s", od.Name, raw)
			}
			id, _ := row[0].(string)
			if _, ok := normalizeID(id); !ok {
				return fmt.Errorf("object %s: bad id %q", od.Name, id)
			}
			r := &record{obj: obj, ID: id, slots: make([]slot, 0, (len(row)-2)/2)}
			if ms, _ := row[1].(json.Number).Int64(); ms != 0 {
				r.deleted = true
				r.deletedAt = time.UnixMilli(ms).UTC()
			}
			for i := 2; i < len(row); i += 2 {
				n, err := row[i].(json.Number).Int64()
				if err != nil || n < 0 || int(n) >= len(cols) {
					return fmt.Errorf("object %s: bad field index in row %s", od.Name, id)
				}
				f := cols[n]
				if f == nil {
					continue
				}
				r.set(f, decodeStoredValue(f, row[i+1]))
			}
			if old := o.records[id]; old != nil {
				e.removeRecordLocked(old) // a seeded record (profiles, admin) replaced by its saved state
			}
			e.addRecordLocked(r)
		}
	}
	return e.ensureConfigUsersLocked()
}

// decodeStoredValue converts a saved JSON value back to f's representation.
func decodeStoredValue(f *field, v any) any {
	switch x := v.(type) {
	case json.Number:
		if f.Type == "datetime" {
			ms, err := x.Int64()
			if err != nil {
				return nil
			}
			return time.UnixMilli(ms).UTC()
		}
		n, err := x.Float64()
		if err != nil {
			return nil
		}
		return n
	case string, bool:
		return x
	}
	return nil
}

// ensureConfigUsersLocked adds Config.Users missing from a loaded org (a
// user added to the config after the data file was written).
func (e *Emulator) ensureConfigUsersLocked() error {
	for i, uc := range e.cfg.Users {
		if e.userByUsernameLocked(uc.Username) != nil {
			continue
		}
		if err := e.seedUserLocked(i+2, uc); err != nil {
			return err
		}
	}
	return nil
}
