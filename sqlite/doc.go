// Package sqlite is forcesync's embedded Store: one SQLite file in WAL mode
// (modernc.org/sqlite, pure Go), with its own SQL and embedded migrations.
package sqlite
