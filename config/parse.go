package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	envRefRe     = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	nameRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	apiNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	versionRe    = regexp.MustCompile(`^[0-9]{2,3}\.0$`)
	jsonNumberRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
	yamlLineRe   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// maxErrors bounds the problems reported for one file: past a few dozen
// the rest are usually echoes of the first.
const maxErrors = 50

// parser walks the YAML node tree itself (rather than decoding into
// structs) so every problem carries its line and key path.
type parser struct {
	file string
	cfg  *Config
	errs ErrorList
	// connNodes and srcNodes are where each connection and source was
	// declared, for errors found after the walk.
	connNodes, srcNodes []*yaml.Node
	scimSource          pos // where scim.source was set
}

// Parse parses a config file's content; filename is used in messages. The
// result has every default applied; secrets stay unresolved until Resolve.
func Parse(data []byte, filename string) (*Config, error) {
	if filename == "" {
		filename = "config"
	}
	p := &parser{file: filename, cfg: &Config{File: filename}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Pos: filename + ":1", Msg: "the file is empty"}
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlError(err)
		}
		return nil, &Error{Pos: fmt.Sprintf("%s:%d", filename, extra.Line), Msg: "only one YAML document is allowed"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{Pos: filename + ":1", Msg: "the file is empty"}
	}
	p.root(doc.Content[0])
	if len(p.errs) == 0 {
		p.defaults()
	}
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// yamlError turns the YAML library's "yaml: line N: msg" into our form.
func (p *parser) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		return &Error{Pos: p.file + ":" + m[1], Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Pos: p.file + ":1", Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (p *parser) errf(n *yaml.Node, path, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	line := 1
	if n != nil {
		line = n.Line
	}
	pos := fmt.Sprintf("%s:%d", p.file, line)
	if path != "" {
		pos += ": " + path
	}
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// deref follows an alias to its anchor. Aliases are allowed (handy for
// shared field rows); the schema has no recursive shape, so expansion stays
// bounded by the document.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported YAML node"
}

// object walks a mapping node, calling the handler of each key and
// reporting unknown and repeated keys.
func (p *parser) object(n *yaml.Node, path string, keys map[string]func(v *yaml.Node, path string)) bool {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			p.errf(n, path, "expected a mapping of keys, got %s", kindName(n))
		}
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errf(n.Content[i], path, "keys must be plain words")
			continue
		}
		h, ok := keys[k.Value]
		if !ok {
			p.errf(k, join(path, k.Value), "unknown key (expected one of %s)", strings.Join(sortedKeys(keys), ", "))
			continue
		}
		if seen[k.Value] {
			p.errf(k, join(path, k.Value), "repeated key")
			continue
		}
		seen[k.Value] = true
		if v = deref(v); v == nil {
			continue
		}
		h(v, join(path, k.Value))
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// list walks a sequence node.
func (p *parser) list(n *yaml.Node, path string, each func(i int, v *yaml.Node, path string)) {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, path, "expected a list, got %s", kindName(n))
		return
	}
	for i, v := range n.Content {
		if v = deref(v); v != nil {
			each(i, v, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// str reads text. Numbers are taken as written (api_version: 65.0);
// booleans and null are refused, they are rarely meant as text.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		p.errf(n, path, "expected text, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := p.str(n, path)
	if ok && strings.TrimSpace(s) == "" {
		p.errf(n, path, "must not be empty")
		return "", false
	}
	return s, ok
}

// oneOf reads text that must be one of allowed.
func (p *parser) oneOf(n *yaml.Node, path string, allowed ...string) (string, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		p.errf(n, path, "%q is not one of %s", s, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errf(n, path, "expected true or false, got %s", kindName(n))
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		p.errf(n, path, "expected true or false, got %s", kindName(n))
		return false, false
	}
	return b, true
}

func (p *parser) integer(n *yaml.Node, path string, lo, hi int64) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errf(n, path, "expected a whole number from %d to %d, got %s", lo, hi, kindName(n))
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < lo || v > hi {
		p.errf(n, path, "expected a whole number from %d to %d, got %s", lo, hi, kindName(n))
		return 0, false
	}
	return int(v), true
}

// share reads a fraction 0 < x <= 1.
func (p *parser) share(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!int") {
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil && v > 0 && v <= 1 {
			return v, true
		}
	}
	p.errf(n, path, "expected a share greater than 0 and at most 1 (e.g. 0.5), got %s", kindName(n))
	return 0, false
}

// duration reads "90s", "5m", or a whole number of seconds.
func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!int" {
			if v, err := strconv.ParseInt(n.Value, 10, 32); err == nil && v > 0 {
				return time.Duration(v) * time.Second, true
			}
		} else if n.Tag == "!!str" {
			if d, err := time.ParseDuration(n.Value); err == nil && d > 0 && d <= 24*time.Hour {
				return d, true
			}
		}
	}
	p.errf(n, path, "expected a duration such as 30s or 5m (at most 24h), got %s", kindName(n))
	return 0, false
}

// strs reads a list of text; a single text counts as a list of one.
func (p *parser) strs(n *yaml.Node, path string) ([]string, bool) {
	if n.Kind == yaml.ScalarNode {
		s, ok := p.nonEmpty(n, path)
		return []string{s}, ok
	}
	var out []string
	ok := true
	p.list(n, path, func(_ int, v *yaml.Node, path string) {
		s, good := p.nonEmpty(v, path)
		ok = ok && good
		out = append(out, s)
	})
	if n.Kind == yaml.SequenceNode && len(out) == 0 {
		p.errf(n, path, "must not be an empty list")
		return nil, false
	}
	return out, ok && n.Kind == yaml.SequenceNode
}

// value reads a constant: text, number (kept exact as json.Number-style
// text via float64-free parsing), boolean, null, or a list of those.
func (p *parser) value(n *yaml.Node, path string) (any, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool":
			return p.boolean(n, path)
		case "!!int":
			raw := strings.ReplaceAll(n.Value, "_", "")
			if v, err := strconv.ParseInt(raw, 0, 64); err == nil {
				return json.Number(strconv.FormatInt(v, 10)), true
			}
			if strings.Trim(strings.TrimLeft(raw, "+-"), "0123456789") == "" {
				return json.Number(strings.TrimPrefix(raw, "+")), true // beyond int64, still exact
			}
		case "!!float":
			if jsonNumberRe.MatchString(n.Value) {
				return json.Number(n.Value), true // exact, however long
			}
			v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
				return json.Number(strconv.FormatFloat(v, 'g', -1, 64)), true
			}
		case "!!str":
			return n.Value, true
		default:
			p.errf(n, path, "unsupported YAML tag %s", n.Tag)
			return nil, false
		}
		p.errf(n, path, "expected a number, got %s", kindName(n))
		return nil, false
	case yaml.SequenceNode:
		out := []any{}
		ok := true
		p.list(n, path, func(_ int, v *yaml.Node, path string) {
			if v.Kind != yaml.ScalarNode {
				p.errf(v, path, "expected a single value, got %s", kindName(v))
				ok = false
				return
			}
			x, good := p.value(v, path)
			ok = ok && good
			out = append(out, x)
		})
		return out, ok
	}
	p.errf(n, path, "expected a value or a list of values, got %s", kindName(n))
	return nil, false
}

// envRef records a reference to an environment variable, to be read by
// Resolve.
func (p *parser) envRef(n *yaml.Node, path, name string, set func(*Config, string)) {
	p.cfg.refs = append(p.cfg.refs, envRef{pos: fmt.Sprintf("%s:%d: %s", p.file, n.Line, path), name: name, set: set})
}

// secret reads a secret written as ${NAME}; a literal is refused, so
// secrets never sit in a file that is copied, committed and mailed around.
func (p *parser) secret(n *yaml.Node, path, key string, set func(*Config, string)) bool {
	s, ok := p.str(n, path)
	if !ok {
		return false
	}
	m := envRefRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		p.errf(n, path, "must be an environment reference such as ${SF_%s}, or use %s_env; secrets are never written in the file",
			strings.ToUpper(key), key)
		return false
	}
	p.envRef(n, path, m[1], set)
	return true
}

// secretEnv reads the name of an environment variable (the *_env keys).
func (p *parser) secretEnv(n *yaml.Node, path string, set func(*Config, string)) bool {
	s, ok := p.str(n, path)
	if !ok {
		return false
	}
	if !envNameRe.MatchString(s) {
		p.errf(n, path, "%q is not an environment variable name (letters, digits, underscores)", s)
		return false
	}
	p.envRef(n, path, s, set)
	return true
}

// secretKeys adds key and key_env handlers to keys, noting in given which
// secrets were provided.
func (p *parser) secretKeys(keys map[string]func(*yaml.Node, string), key string, given map[string]*yaml.Node,
	set func(*Config, string)) {
	keys[key] = func(v *yaml.Node, path string) {
		if p.secret(v, path, key, set) {
			p.once(given, key, v, path)
		}
	}
	keys[key+"_env"] = func(v *yaml.Node, path string) {
		if p.secretEnv(v, path, set) {
			p.once(given, key, v, path)
		}
	}
}

func (p *parser) once(given map[string]*yaml.Node, key string, v *yaml.Node, path string) {
	if given[key] != nil {
		p.errf(v, path, "set %s or %s_env, not both", key, key)
	}
	given[key] = v
}
