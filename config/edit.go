package config

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// MappingYAML is a mapping as the console's editor reads and writes it:
// the keys the editor manages. SetMapping keeps every other key of a
// mapping it replaces (operations, guard, user, pull, batch_size, ...)
// as the file had it. The file stays the source of truth.
type MappingYAML struct {
	Name       string `yaml:"name"`
	Source     string `yaml:"source"`
	Connection string `yaml:"connection,omitempty"`
	Object     string `yaml:"object"`
	Direction  string `yaml:"direction,omitempty"`
	Mode       string `yaml:"mode,omitempty"`
	Filter     string `yaml:"filter,omitempty"`
	// Match is a map (external_id: F, fields: [F], kind: ...) or the
	// scalar "binding".
	Match  any       `yaml:"match"`
	Fields []RowYAML `yaml:"fields"`
}

// editorKeys are the mapping keys MappingYAML manages.
var editorKeys = map[string]bool{"name": true, "source": true, "connection": true, "object": true, "direction": true,
	"mode": true, "filter": true, "match": true, "fields": true}

// RowYAML is one field row, every key a row may have (see the parser's
// row). Exactly one of Source, Value, Expr, Template, FirstOf is set.
type RowYAML struct {
	Target         string            `yaml:"target"`
	Source         string            `yaml:"source,omitempty"`
	Value          *Scalar           `yaml:"value,omitempty"`
	Expr           string            `yaml:"expr,omitempty"`
	Template       string            `yaml:"template,omitempty"`
	FirstOf        []string          `yaml:"first_of,omitempty,flow"`
	Map            map[string]string `yaml:"map,omitempty"`
	Default        Scalar            `yaml:"default,omitempty"`
	On             string            `yaml:"on,omitempty"`
	ClearWhenEmpty bool              `yaml:"clear_when_empty,omitempty"`
	Direction      string            `yaml:"direction,omitempty"`
	Conflict       string            `yaml:"conflict,omitempty"`
}

// Scalar is a YAML value as a person types it: 42 is a number, true a
// boolean, "42" (quoted) the text 42, anything else text.
type Scalar string

// MarshalYAML writes the scalar with the type its text says.
func (s Scalar) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err == nil && len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode &&
		n.Content[0].Tag != "!!null" {
		v := n.Content[0]
		v.Line, v.Column, v.HeadComment, v.LineComment, v.FootComment = 0, 0, "", "", ""
		return v, nil
	}
	return string(s), nil
}

// UnmarshalYAML reads a scalar back into the text that writes it again:
// text that would read as another type is quoted.
func (s *Scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a single value", n.Line)
	}
	if n.Tag == "!!str" {
		var plain yaml.Node
		if err := yaml.Unmarshal([]byte(n.Value), &plain); n.Value == "" || err != nil || len(plain.Content) != 1 ||
			plain.Content[0].Tag != "!!str" || plain.Content[0].Value != n.Value {
			*s = Scalar(strconv.Quote(n.Value))
			return nil
		}
	}
	*s = Scalar(n.Value)
	return nil
}

// LoadMapping reads the mapping named name from the config text data, as
// the editor shows it; ENotFound-like nil, false when there is none.
func LoadMapping(data []byte, name string) (*MappingYAML, bool, error) {
	_, seq, err := mappingsOf(data)
	if err != nil || seq == nil {
		return nil, false, err
	}
	for _, n := range seq.Content {
		if n.Kind != yaml.MappingNode || value(n, "name") != name {
			continue
		}
		var m MappingYAML
		if err := n.Decode(&m); err != nil {
			return nil, false, fmt.Errorf("config: mapping %s: %w", name, err)
		}
		return &m, true, nil
	}
	return nil, false, nil
}

func value(n *yaml.Node, key string) string {
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return n.Content[j+1].Value
		}
	}
	return ""
}

// mappingsOf parses data and returns its document and the mappings list
// (nil when the file has none).
func mappingsOf(data []byte) (*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, errors.New("config: the file is not a YAML mapping at the top")
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "mappings" {
			return &doc, root.Content[i+1], nil
		}
	}
	return &doc, nil, nil
}

// SetMapping returns the config text data with mapping m added to
// mappings, or replacing the editor's keys of the mapping of the same
// name (its other keys stay, in their place). The rest of the document,
// comments included, is kept as yaml.v3 re-encodes it. The result is not
// checked: Parse it.
func SetMapping(data []byte, m MappingYAML) ([]byte, error) {
	doc, seq, err := mappingsOf(data)
	if err != nil {
		return nil, err
	}
	var item yaml.Node
	if err := item.Encode(m); err != nil {
		return nil, fmt.Errorf("config: encoding mapping %s: %w", m.Name, err)
	}
	if seq == nil {
		root := doc.Content[0]
		seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "mappings"}, seq)
	}
	if seq.Kind != yaml.SequenceNode {
		if seq.Tag == "!!null" {
			seq.Kind, seq.Tag, seq.Value = yaml.SequenceNode, "!!seq", ""
		} else {
			return nil, errors.New("config: mappings is not a list")
		}
	}
	replaced := false
	for i, n := range seq.Content {
		if n.Kind == yaml.MappingNode && value(n, "name") == m.Name {
			seq.Content[i] = merge(n, &item)
			replaced = true
		}
	}
	if !replaced {
		seq.Content = append(seq.Content, &item)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return buf.Bytes(), nil
}

// merge returns old with the editor's keys taken from edited: a managed
// key edited no longer has is dropped, one it adds goes at the end, every
// other key of old stays where it was.
func merge(old, edited *yaml.Node) *yaml.Node {
	fresh := map[string]*yaml.Node{}
	var order []string
	for j := 0; j+1 < len(edited.Content); j += 2 {
		k := edited.Content[j].Value
		fresh[k] = edited.Content[j+1]
		order = append(order, k)
	}
	out := *old
	out.Content = nil
	used := map[string]bool{}
	for j := 0; j+1 < len(old.Content); j += 2 {
		k, v := old.Content[j], old.Content[j+1]
		if !editorKeys[k.Value] {
			out.Content = append(out.Content, k, v)
			continue
		}
		if nv, ok := fresh[k.Value]; ok {
			out.Content = append(out.Content, k, nv)
			used[k.Value] = true
		}
	}
	for _, k := range order {
		if !used[k] {
			out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, fresh[k])
		}
	}
	return &out
}
