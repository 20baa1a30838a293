// Package engine pushes accepted changes to Salesforce: workers claim due
// work from the Store with a lease, compile payloads through package
// mapping, skip what did not change, pick Collections or Bulk API 2.0, and
// commit every outcome (binding, status, error, run) in one transaction.
// A budget governor keeps API use under a share of the org's daily
// allowance; real-time changes are served before backfills.
package engine
