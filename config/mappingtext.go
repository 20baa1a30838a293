package config

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// MappingText returns the YAML of the mapping named name in the config
// text data, every key as the file has it, under a mappings: list, so an
// editor can show exactly what it will write; "" when there is none.
func MappingText(data []byte, name string) string {
	_, seq, err := mappingsOf(data)
	if err != nil || seq == nil {
		return ""
	}
	for _, n := range seq.Content {
		if n.Kind != yaml.MappingNode || value(n, "name") != name {
			continue
		}
		list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{n}}
		root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "mappings"}, list}}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if enc.Encode(root) != nil || enc.Close() != nil {
			return ""
		}
		return buf.String()
	}
	return ""
}

// MappingIndex returns the position of the mapping named name in the
// mappings list of the config text data (the N of a problem's path
// "mappings[N]"), or -1 when it has none.
func MappingIndex(data []byte, name string) int {
	_, seq, err := mappingsOf(data)
	if err != nil || seq == nil {
		return -1
	}
	for i, n := range seq.Content {
		if n.Kind == yaml.MappingNode && value(n, "name") == name {
			return i
		}
	}
	return -1
}
