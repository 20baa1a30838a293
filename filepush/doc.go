// Package filepush pushes a CSV or NDJSON file of records of one source
// through its mappings: the door behind `forcesync push`.
//
// The file path is built for size. Rows are read in chunks, and chunks are
// compared and judged by parallel workers ahead of their turn
// (pipeline.go); each chunk's stored state is read in one set-based query
// per mapping (forcesync.SettledReader) and rows that would change nothing — same
// fields, synced with the same payload fingerprint, nothing queued — are
// dropped before anything is written, so a re-push of an unchanged file
// writes no rows and makes no API call.
//
// Changed rows take one of two ways:
//
//   - The direct path (direct.go), for a source whose mappings are all
//     External ID upserts the engine lets a push run: a row the push can
//     judge alone is streamed into the upload of the push's own Bulk job
//     for each mapping as the file is read (or, out of a mapping's filter
//     and never bound there, recorded skipped under it with the job's
//     rows); while Salesforce processes the
//     jobs the source records are written, and once the jobs have
//     answered, their bindings and statuses, in set-based writes
//     (forcesync.PushRecorder: StageRecords, RecordPushed). No outbox row, no
//     claim: a few statements per hundreds of rows instead of the accept ->
//     claim -> complete round trip, and memory bounded by one job.
//   - The outbox: every other row (deletes, rows queued, held or retrying,
//     a job below the Bulk threshold, a row only some mappings would send,
//     a promotion or demotion between a Lead and a Contact mapping, a
//     source with a mapping the direct path cannot take) is accepted in
//     large transactions, and the engine is asked to push once a Bulk
//     job's worth is waiting or the file is read.
//
// Durability: the checkpoint counts a row only once it is durable — in the
// outbox, or recorded after its job answered. An interrupted push resumes
// from the checkpoint; rows of a job cut short are sent again (an upsert
// by External ID), after the jobs a killed push left in the Bulk job
// ledger are aborted (OwnerGone), so no stale job lands after newer data.
package filepush
