package mapping

// TargetFields lists every Salesforce field the mapping's payloads may
// hold, each once, in row order, the External ID field included: the
// header of a Bulk upload streamed before its records are known.
func (c *Compiled) TargetFields() []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, r := range c.rows {
		add(r.t.name)
	}
	if c.extField != nil {
		add(c.extField.name)
	}
	return out
}
