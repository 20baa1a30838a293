package emulator

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxJSONBody caps a JSON request body (Salesforce's REST limit is in this range).
const maxJSONBody = 50 << 20

// New builds an emulator for cfg. With cfg.DataFile set and the file present,
// the org is loaded from it.
func New(cfg Config) (*Emulator, error) {
	e := &Emulator{
		cfg:       cfg,
		now:       cfg.Now,
		sessions:  map[string]*Session{},
		refresh:   map[string]*refreshGrant{},
		authCodes: map[string]*authCode{},
		stats:     map[Kind]int64{},
		mux:       http.NewServeMux(),
	}
	if e.now == nil {
		e.now = time.Now
	}
	o, err := newOrg(cfg, e.now)
	if err != nil {
		return nil, err
	}
	e.org = o
	if err := e.loadOrSeed(); err != nil {
		return nil, err
	}
	if err := e.initOAuth(); err != nil {
		return nil, err
	}
	e.admin.overagePercent.Store(-1)
	e.faults = newFaultSet()
	e.routes()
	return e, nil
}

// readBody reads at most limit bytes of the request body.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("request body exceeds %d bytes", limit)
	}
	return b, nil
}

// jsonErrorMessage words a JSON decoding error the way Salesforce's parser does.
func jsonErrorMessage(err error) string {
	var se interface{ Error() string }
	if errors.As(err, &se) {
		return "Unexpected character in JSON body: " + se.Error()
	}
	return err.Error()
}
