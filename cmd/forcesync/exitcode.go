package main

import (
	"errors"

	"github.com/forcesync/forcesync"
)

// Exit codes of the forcesync binary, for scripts. docs/real-org.md lists
// them for operators (with forcesync connection test).
const (
	exitOK          = 0
	exitFailure     = 1 // anything else, including bugs (EInternal)
	exitUsage       = 2 // the command was called wrongly: a flag, an argument
	exitInvalid     = 3 // bad input: a config key, a file, a record, a mapping
	exitNotFound    = 4 // a named thing does not exist: a connection, a source, a Salesforce object
	exitConflict    = 5 // the state does not allow the operation
	exitAuth        = 6 // Salesforce or forcesync refused the credentials, or they do not allow this
	exitUnavailable = 7 // Salesforce, the store or another dependency did not answer
)

// exitCodes maps forcesync's error codes to exit codes, once, as
// httpserver's statusOf maps them to HTTP statuses.
var exitCodes = map[string]int{
	forcesync.EInvalid:      exitInvalid,
	forcesync.ENotFound:     exitNotFound,
	forcesync.EConflict:     exitConflict,
	forcesync.EUnauthorized: exitAuth,
	forcesync.EForbidden:    exitAuth,
	forcesync.EUnavailable:  exitUnavailable,
	forcesync.EInternal:     exitFailure,
	forcesync.EGone:         exitNotFound,
}

// exitCode maps an error to the process exit code: 2 for usage mistakes,
// the table's code for a forcesync.Error, 1 for anything else.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	if c, ok := exitCodes[forcesync.ErrorCode(err)]; ok {
		return c
	}
	return exitFailure
}
