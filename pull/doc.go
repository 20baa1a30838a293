// Package pull reads Salesforce back (direction pull and both mappings):
// a Puller per mapping queries the object's mapped fields by
// SystemModstamp from a persisted watermark (queryAll, so deletes and
// merges come in the same call), decides per field what changed on which
// side since the last agreed state, recognises forcesync's own pushes
// when they come back, settles conflicts by policy, and commits the
// outcome with the watermark in one store transaction. Pulled changes go
// to forcesync's source records, the changes feed and signed webhooks
// (Deliverer). Runner runs it all for serve.
package pull
