// Package filepush pushes a CSV or NDJSON file of records of one source
// through its mappings: the door behind `forcesync push`.
//
// The file path is built for size. Rows are read in chunks; each chunk's
// stored state is read in one set-based query per mapping
// (forcesync.SettledReader) and rows that would change nothing — same
// fields, synced with the same payload fingerprint, nothing queued — are
// dropped before anything is written, so a re-push of an unchanged file
// writes no rows and makes no API call. Changed rows are accepted in large
// transactions, and the engine is asked to push only once a whole Bulk
// job's worth is waiting (or the file is read): what goes through Bulk or
// Collections is decided on what is really sent, and 100,000 changed rows
// cost one Bulk job.
//
// Delivery is the engine's: a row is durable in the store before the
// checkpoint counts it, and the engine marks it synced only after
// Salesforce accepted it. An interrupted push resumes from the checkpoint.
package filepush
