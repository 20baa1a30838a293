// Package engine pushes accepted changes to Salesforce: workers claim due
// work from the Store with a lease, compile payloads through package
// mapping, skip what did not change, pick Collections or Bulk API 2.0, and
// commit every outcome (binding, status, error, run) in one transaction.
// A budget governor (governor.go) keeps forcesync's own calls, counted in
// the store over a rolling 24 hours, under a share of the org's daily
// allowance, leaves a reserve to the org's other users and a lane to
// real-time changes, and resumes by itself; real-time changes are served
// before backfills. Metrics (metrics.go), the org's health (health.go) and
// the structured log events (report.go) are what docs/operations.md lists.
package engine
