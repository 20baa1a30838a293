package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ConfigError is a mistake in an emulator configuration file, located by
// line (0 when it concerns the file as a whole).
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// LoadConfig reads an emulator configuration from a YAML file: connected
// apps, users, custom objects and fields, the daily API allowance and the
// session timeout. Unknown keys and badly typed values are errors naming the
// file, the line and what was expected.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("emulator config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig for YAML already read; name labels errors.
// The errors returned wrap one *ConfigError per mistake found.
func ParseConfig(name string, data []byte) (Config, error) {
	var cfg Config
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, yamlSyntaxError(name, err)
	}
	if len(root.Content) == 0 {
		return cfg, nil // an empty file is the default org
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return cfg, &ConfigError{name, root.Content[0].Line, "expected a mapping of settings (base_url, connected_apps, users, objects, ...)"}
	}
	keys := lineKeys{keys: map[int]string{}, blocks: map[int]string{}}
	indexKeys(root.Content[0], "", keys)
	var errs []error
	checkDurations(name, root.Content[0], &errs)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return cfg, yamlSyntaxError(name, err)
		}
		for _, msg := range te.Errors {
			errs = append(errs, typeErrorMessage(name, msg, keys))
		}
	}
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	lines := map[string]int{}
	indexLines(root.Content[0], "", lines)
	if err := validateConfig(name, &cfg, lines); err != nil {
		return cfg, err
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntaxError(name string, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &ConfigError{name, n, "YAML syntax: " + m[2]}
	}
	return &ConfigError{name, 0, strings.TrimPrefix(err.Error(), "yaml: ")}
}

// lineKeys locates yaml's errors, which give only a line: keys maps the line
// of a mapping key to its path (users[1].password); blocks maps the line
// where a mapping or list value starts to the path it is the value of.
type lineKeys struct{ keys, blocks map[int]string }

func indexKeys(n *yaml.Node, path string, out lineKeys) {
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && path != "" {
		if _, seen := out.blocks[n.Line]; !seen {
			out.blocks[n.Line] = path
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			if _, seen := out.keys[n.Content[i].Line]; !seen {
				out.keys[n.Content[i].Line] = p
			}
			indexKeys(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			indexKeys(c, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// indexLines maps every path (key or sequence element) to its line.
func indexLines(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			out[p] = n.Content[i].Line
			indexLines(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[p] = c.Line
			indexLines(c, p, out)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkDurations rejects bare numbers for session_timeout: YAML would read
// 3600 as 3600 nanoseconds, which is never what was meant.
func checkDurations(name string, m *yaml.Node, errs *[]error) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if (k.Value == "session_timeout" || k.Value == "bulk_start_delay") && v.Kind == yaml.ScalarNode {
			d, err := time.ParseDuration(v.Value)
			if err != nil || v.Tag == "!!int" || v.Tag == "!!float" {
				*errs = append(*errs, &ConfigError{name, v.Line, fmt.Sprintf("%s: expected a duration such as 2h or 30m, got %q", k.Value, v.Value)})
			} else if d < 0 {
				*errs = append(*errs, &ConfigError{name, v.Line, k.Value + ": must not be negative"})
			}
		}
	}
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)
	cannotRE       = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")
	anyLineRE      = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// configTypes are the structs of a configuration, by the name yaml's errors use.
var configTypes = map[string]reflect.Type{
	"emulator.Config":       reflect.TypeFor[Config](),
	"emulator.ConnectedApp": reflect.TypeFor[ConnectedApp](),
	"emulator.UserConfig":   reflect.TypeFor[UserConfig](),
	"emulator.ObjectConfig": reflect.TypeFor[ObjectConfig](),
	"emulator.FieldConfig":  reflect.TypeFor[FieldConfig](),
}

// typeErrorMessage rewrites one of yaml's decoding errors in the terms of
// the configuration: the key, and what was expected.
func typeErrorMessage(name, msg string, keys lineKeys) error {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		known := ""
		if t, ok := configTypes[m[3]]; ok {
			known = " (expected one of: " + strings.Join(yamlKeys(t), ", ") + ")"
		}
		where := ""
		if p := keys.keys[line]; p != "" {
			if i := strings.LastIndex(p, "."); i >= 0 {
				where = " in " + p[:i]
			}
		}
		return &ConfigError{name, line, fmt.Sprintf("unknown key %q%s%s", m[2], where, known)}
	}
	if m := cannotRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		got := yamlKind(m[2])
		if m[3] != "" {
			got += " " + strconv.Quote(m[3])
		}
		key := keys.keys[line]
		if m[2] == "!!map" || m[2] == "!!seq" {
			key = keys.blocks[line]
		}
		if key != "" {
			key += ": "
		}
		return &ConfigError{name, line, fmt.Sprintf("%sexpected %s, got %s", key, expectedKind(m[4]), got)}
	}
	if m := anyLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{name, line, m[2]}
	}
	return &ConfigError{name, 0, msg}
}

// yamlKeys lists the keys a struct accepts, sorted.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

func yamlKind(tag string) string {
	switch tag {
	case "!!str":
		return "text"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "null"
	}
	return tag
}

func expectedKind(goType string) string {
	switch {
	case goType == "string":
		return "text"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "time.Duration":
		return "a duration such as 2h or 30m"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "emulator."):
		return "a mapping"
	}
	return goType
}

// validateConfig checks what types cannot: required and unique names,
// references between sections, URLs, certificates, then the schema as the org
// would build it.
func validateConfig(name string, cfg *Config, lines map[string]int) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		line := lines[path]
		for p := path; line == 0 && strings.ContainsAny(p, ".["); {
			// Point at the enclosing entry when the key itself is absent.
			i := strings.LastIndexAny(p, ".[")
			p = p[:i]
			line = lines[p]
		}
		errs = append(errs, &ConfigError{name, line, fmt.Sprintf(format, args...)})
	}
	if cfg.BaseURL != "" {
		if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("base_url", "base_url: expected an absolute http(s) URL, got %q", cfg.BaseURL)
		}
	}
	if cfg.OrgID != "" {
		if n, ok := normalizeID(cfg.OrgID); !ok || !strings.HasPrefix(n, "00D") {
			bad("org_id", "org_id: expected a 15- or 18-character Id starting with 00D, got %q", cfg.OrgID)
		}
	}
	if cfg.DailyAPIRequests < 0 {
		bad("daily_api_requests", "daily_api_requests: must not be negative")
	}
	if cfg.DailyAPIOveragePercent < 0 || cfg.DailyAPIOveragePercent > 1000 {
		bad("daily_api_overage_percent", "daily_api_overage_percent: expected 0 to 1000 (percent of daily_api_requests), got %d", cfg.DailyAPIOveragePercent)
	}
	if cfg.BulkRecordsPerSecond < 0 || cfg.BulkRecordsPerSecond != cfg.BulkRecordsPerSecond {
		bad("bulk_records_per_second", "bulk_records_per_second: must not be negative (0 means unpaced)")
	}
	usernames := map[string]bool{strings.ToLower(DefaultUsername): true}
	for i, u := range cfg.Users {
		p := fmt.Sprintf("users[%d]", i)
		n := strings.ToLower(strings.TrimSpace(u.Username))
		switch {
		case n == "":
			bad(p+".username", "%s.username: required", p)
		case !strings.Contains(n, "@") || strings.HasPrefix(n, "@") || strings.HasSuffix(n, "@"):
			bad(p+".username", "%s.username: expected an email-shaped username such as jane@example.com, got %q", p, u.Username)
		case usernames[n] && n != strings.ToLower(DefaultUsername):
			bad(p+".username", "%s.username: duplicate username %q", p, u.Username)
		}
		usernames[n] = true
		for _, r := range u.SecurityToken {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				bad(p+".security_token", "%s.security_token: letters and digits only (Salesforce's tokens are), got %q", p, u.SecurityToken)
				break
			}
		}
		if u.Profile != "" && !knownProfile(u.Profile) {
			bad(p+".profile", "%s.profile: unknown profile %q (expected one of: %s)", p, u.Profile, strings.Join(profileNames(), ", "))
		}
	}
	clients := map[string]bool{}
	for i, a := range cfg.ConnectedApps {
		p := fmt.Sprintf("connected_apps[%d]", i)
		switch {
		case a.ClientID == "":
			bad(p+".client_id", "%s.client_id: required", p)
		case clients[a.ClientID]:
			bad(p+".client_id", "%s.client_id: duplicate client id %q", p, a.ClientID)
		}
		clients[a.ClientID] = true
		for j, ru := range a.RedirectURIs {
			if u, err := url.Parse(ru); err != nil || u.Scheme == "" || u.Host == "" {
				bad(fmt.Sprintf("%s.redirect_uris[%d]", p, j), "%s.redirect_uris[%d]: expected an absolute URL, got %q", p, j, ru)
			}
		}
		if a.Certificate != "" {
			if _, err := parseVerifyKey(a.Certificate); err != nil {
				bad(p+".certificate", "%s.certificate: expected a PEM certificate or RSA public key: %v", p, err)
			}
		}
		if a.RunAs != "" && !usernames[strings.ToLower(a.RunAs)] {
			bad(p+".run_as", "%s.run_as: %q is not a user of this org (add it under users)", p, a.RunAs)
		}
		for j, pa := range a.PreAuthorized {
			if !usernames[strings.ToLower(pa)] {
				bad(fmt.Sprintf("%s.pre_authorized[%d]", p, j), "%s.pre_authorized[%d]: %q is not a user of this org", p, j, pa)
			}
		}
	}
	for i, o := range cfg.Objects {
		p := fmt.Sprintf("objects[%d]", i)
		if o.Name == "" {
			bad(p+".name", "%s.name: required", p)
		}
		for j, f := range o.Fields {
			fp := fmt.Sprintf("%s.fields[%d]", p, j)
			switch {
			case f.Name == "":
				bad(fp+".name", "%s.name: required", fp)
			case !strings.HasSuffix(f.Name, "__c"):
				bad(fp+".name", "%s.name: custom field names end in __c, got %q", fp, f.Name)
			}
			if f.Type == "" {
				bad(fp+".type", "%s.type: required (string, email, double, picklist, reference, ...)", fp)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// The org's own checks (object and field definitions) have the last word.
	if _, err := newOrg(*cfg, time.Now); err != nil {
		line := lines["objects"]
		return &ConfigError{name, line, err.Error()}
	}
	return nil
}

func knownProfile(name string) bool {
	for _, p := range seedProfiles {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

func profileNames() []string {
	out := make([]string, len(seedProfiles))
	for i, p := range seedProfiles {
		out[i] = p.Name
	}
	return out
}
