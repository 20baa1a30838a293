// Package forcesync is the vocabulary of forcesync: the contracts every other
// package speaks. A Source object's records are accepted as Changes, pushed
// through a Mapping's FieldRows to a Salesforce object, matched by a
// MatchRule, remembered as Bindings and reported as RecordStatuses, in Runs.
// The Store persists all of it; package sqlite and package postgres implement
// it. This package imports only the standard library.
package forcesync
