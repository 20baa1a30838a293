package mapping

// ExternalIDCaseSensitive reports whether Salesforce tells External ID
// values apart by case (describe's caseSensitive). When it does not,
// "abc-1" and "ABC-1" upsert to one record, and the engine must not send
// both.
func (c *Compiled) ExternalIDCaseSensitive() bool { return c.extCaseSensitive }

// ExternalIDIsKey reports whether the External ID value is the record key
// (no field row sets the External ID field), so a key bound earlier names
// the Salesforce record its value matches.
func (c *Compiled) ExternalIDIsKey() bool { return c.extField != nil && c.extRow == nil }
