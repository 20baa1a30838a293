package config

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// MappingYAML is a mapping as the console's editor writes it: the simple
// shape (source fields with defaults, an External ID or fields match). The
// file stays the source of truth; SetMapping puts it in.
type MappingYAML struct {
	Name       string         `yaml:"name"`
	Source     string         `yaml:"source"`
	Connection string         `yaml:"connection,omitempty"`
	Object     string         `yaml:"object"`
	Match      map[string]any `yaml:"match"`
	Fields     []RowYAML      `yaml:"fields"`
}

// RowYAML is one field row of MappingYAML.
type RowYAML struct {
	Target  string `yaml:"target"`
	Source  string `yaml:"source,omitempty"`
	Value   string `yaml:"value,omitempty"`
	Default string `yaml:"default,omitempty"`
}

// SetMapping returns the config text data with mapping m added to
// mappings, or replacing the mapping of the same name. The rest of the
// document, comments included, is kept as yaml.v3 re-encodes it. The
// result is not checked: Parse it.
func SetMapping(data []byte, m MappingYAML) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("config: the file is not a YAML mapping at the top")
	}
	root := doc.Content[0]
	var item yaml.Node
	if err := item.Encode(m); err != nil {
		return nil, fmt.Errorf("config: encoding mapping %s: %w", m.Name, err)
	}
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "mappings" {
			seq = root.Content[i+1]
		}
	}
	if seq == nil {
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
		if n.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "name" && n.Content[j+1].Value == m.Name {
				seq.Content[i] = &item
				replaced = true
			}
		}
	}
	if !replaced {
		seq.Content = append(seq.Content, &item)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return buf.Bytes(), nil
}
