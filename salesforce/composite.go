package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// MaxSubrequests is the most subrequests one /composite call takes.
const MaxSubrequests = 25

// Subrequest is one request of a /composite call. URL is a REST path: either
// "/services/data/vNN.N/..." or relative to the pinned version
// ("sobjects/Account"), expanded by the client. Later subrequests refer to
// earlier results with Ref ("@{refAcct.id}") in URL or Body.
type Subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// CompositeRequest is the body of POST /composite. The whole call counts as
// one API request.
type CompositeRequest struct {
	// AllOrNone rolls everything back when any subrequest fails; the others
	// then report PROCESSING_HALTED.
	AllOrNone bool `json:"allOrNone"`
	// CollateSubrequests lets Salesforce group independent subrequests (the
	// default from v49); nil leaves it to Salesforce.
	CollateSubrequests *bool        `json:"collateSubrequests,omitempty"`
	Requests           []Subrequest `json:"compositeRequest"`
}

// SubResponse is the result of one subrequest.
type SubResponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// Err returns nil for a 2xx subresponse, else an *APIError parsed from its
// body (Salesforce's error array).
func (s *SubResponse) Err() error {
	if s.HTTPStatusCode >= 200 && s.HTTPStatusCode < 300 {
		return nil
	}
	e := ParseError(s.HTTPStatusCode, s.Body)
	e.Path = s.ReferenceID
	return e
}

// Decode unmarshals the subresponse body into v.
func (s *SubResponse) Decode(v any) error {
	return json.Unmarshal(s.Body, v)
}

// Ref returns a reference to a field of an earlier subrequest's result:
// Ref("refAcct", "id") is "@{refAcct.id}".
func Ref(referenceID, field string) string {
	return "@{" + referenceID + "." + field + "}"
}

var referenceIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// Composite sends up to 25 dependent subrequests in one call and returns
// their results by position (Salesforce answers 200 even when
// subrequests fail; look at each SubResponse.Err). A composite request is
// not retried after it may have been executed: with creates inside it, a
// replay could duplicate them.
func (c *Client) Composite(ctx context.Context, req CompositeRequest) ([]SubResponse, error) {
	if len(req.Requests) == 0 {
		return nil, nil
	}
	if len(req.Requests) > MaxSubrequests {
		return nil, fmt.Errorf("composite: %d subrequests, at most %d allowed", len(req.Requests), MaxSubrequests)
	}
	seen := map[string]bool{}
	out := req
	out.Requests = make([]Subrequest, len(req.Requests))
	for i, s := range req.Requests {
		if !referenceIDRE.MatchString(s.ReferenceID) || seen[s.ReferenceID] {
			return nil, fmt.Errorf("composite: subrequest %d: referenceId %q must be a unique identifier", i, s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		if s.Method == "" {
			return nil, fmt.Errorf("composite: subrequest %d has no method", i)
		}
		if !strings.HasPrefix(s.URL, "/services/") {
			s.URL = c.DataPath(s.URL)
		}
		out.Requests[i] = s
	}
	var res struct {
		CompositeResponse []SubResponse `json:"compositeResponse"`
	}
	if _, err := c.doJSON(ctx, KindComposite, http.MethodPost, c.DataPath("composite"), out, &res); err != nil {
		return nil, fmt.Errorf("composite: %w", err)
	}
	// Order answers by the request's order; with collation Salesforce may
	// answer in another.
	byRef := make(map[string]SubResponse, len(res.CompositeResponse))
	for _, r := range res.CompositeResponse {
		byRef[r.ReferenceID] = r
	}
	ordered := make([]SubResponse, len(req.Requests))
	for i, s := range req.Requests {
		r, ok := byRef[s.ReferenceID]
		if !ok {
			return nil, fmt.Errorf("composite: no result for referenceId %q", s.ReferenceID)
		}
		ordered[i] = r
	}
	return ordered, nil
}
