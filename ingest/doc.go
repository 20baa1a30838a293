// Package ingest reads changes from files: CSV with a header row and NDJSON
// of {key, op, version, fields} objects or plain records, one data row at a
// time, with a checkpoint that lets an interrupted file push resume where
// its rows stopped being durable.
package ingest
