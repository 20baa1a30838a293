package httpserver

import (
	"io"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/ingest"
)

// Problem is why one record of a body was refused.
type Problem = ingest.Problem

// DecodeIngest reads an ingest body: the one change codec of every door
// (ingest.DecodeBody).
func DecodeIngest(r io.Reader) ([]forcesync.Change, []Problem, error) { return ingest.DecodeBody(r) }
