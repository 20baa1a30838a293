// Package bench holds the end-to-end benchmarks of forcesync: API calls
// spent per 10,000 records, ingest-to-Salesforce throughput, latency at a
// steady event rate and peak memory by backlog size. They run the real
// engine, SQLite store and ingest API against the emulator on loopback, and
// only with -bench; docs/benchmarks.md has the commands and the figures.
package bench
