package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		code   string
		msg    string
		fields []string
		raw    bool // Body kept because nothing parsed
	}{
		{"array", 400, `[{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}]`,
			"REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName, Company]", []string{"LastName", "Company"}, false},
		{"object", 404, `{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}`, "NOT_FOUND", "The requested resource does not exist", nil, false},
		{"oauth", 400, `{"error":"invalid_grant","error_description":"authentication failure"}`, "invalid_grant", "authentication failure", nil, false},
		{"statusCode spelling", 400, `[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access"}]`, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", nil, false},
		{"html", 503, `<html><body>Service Unavailable: maintenance</body></html>`, "", "", nil, true},
		{"plain", 502, `Bad Gateway`, "", "", nil, true},
		{"truncated", 500, `[{"message":"Internal err`, "", "", nil, true},
		{"empty", 500, ``, "", "", nil, false},
		{"wrong types", 400, `[{"errorCode":5,"message":["x"]}]`, "", "", nil, true},
		{"array of strings", 400, `["a","b"]`, "", "", nil, true},
	}
	for _, c := range cases {
		e := ParseError(c.status, []byte(c.body))
		if e.Status != c.status || e.Code != c.code || e.Message != c.msg || !reflect.DeepEqual(e.Fields, c.fields) {
			t.Errorf("%s: got %+v", c.name, e)
		}
		if c.raw && e.Body == "" {
			t.Errorf("%s: raw body not kept", c.name)
		}
		if e.Error() == "" {
			t.Errorf("%s: empty message", c.name)
		}
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 500, Code: "UNKNOWN_EXCEPTION"}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 400, Code: "UNABLE_TO_LOCK_ROW"}, true},
		{&APIError{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: "ConcurrentPerOrgLongTxn Limit exceeded."}, true},
		{&APIError{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}, false},
		{&APIError{Status: 400, Code: "REQUIRED_FIELD_MISSING"}, false},
		{&APIError{Status: 401, Code: "INVALID_SESSION_ID"}, false},
		{&RecordError{StatusCode: "UNABLE_TO_LOCK_ROW"}, true},
		{&RecordError{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK"}, true},
		{&RecordError{StatusCode: "DUPLICATE_VALUE"}, false},
		{&AuthError{Code: "invalid_grant", Reauthorize: true}, false},
		{&AuthError{Status: 503, Code: "http_503"}, true},
		{fmt.Errorf("wrapped: %w", &APIError{Status: 502}), true},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{errors.New("something else"), false},
	}
	for i, c := range cases {
		if got := Retryable(c.err); got != c.want {
			t.Errorf("case %d %v: Retryable = %v, want %v", i, c.err, got, c.want)
		}
	}
}

func TestParseLimitInfo(t *testing.T) {
	cases := []struct {
		in   string
		want LimitInfo
		ok   bool
	}{
		{"api-usage=18/5000", LimitInfo{Used: 18, Max: 5000}, true},
		{"api-usage=18/5000; api-bursts=1/750", LimitInfo{Used: 18, Max: 5000, BurstsUsed: 1, BurstsMax: 750}, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
			LimitInfo{Used: 25, Max: 5000, PerApp: []AppUsage{{App: "sample-connected-app", Used: 17, Max: 250}}}, true},
		{" API-USAGE = 1 / 2 ", LimitInfo{Used: 1, Max: 2}, true},
		{"api-bursts=1/750", LimitInfo{}, false},
		{"api-usage=x/5000", LimitInfo{}, false},
		{"api-usage=-1/5000", LimitInfo{}, false},
		{"", LimitInfo{}, false},
	}
	for _, c := range cases {
		got, err := ParseLimitInfo(c.in)
		if (err == nil) != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseLimitInfo(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func FuzzParseLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=18/5000", "api-usage=18/5000; api-bursts=1/750",
		"api-usage=1/2; per-app-api-usage=17/250(appName=x)", "per-app-api-usage=(", "api-usage=/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		li, err := ParseLimitInfo(s)
		if err != nil {
			return
		}
		if li.Used < 0 || li.Max < 0 || li.BurstsUsed < 0 {
			t.Fatalf("negative usage from %q: %+v", s, li)
		}
		if !strings.Contains(strings.ToLower(s), "api-usage") {
			t.Fatalf("parsed %q without api-usage", s)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{`[{"message":"m","errorCode":"C","fields":["F"]}]`, `{"error":"invalid_grant"}`,
		`<html>`, `[{"statusCode":"X"}]`, `[{"message":"trunc`, `[1,2,{}]`, `{"errorCode":null}`} {
		f.Add(500, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseError(status, body)
		if e.Status != status {
			t.Fatal("status lost")
		}
		if len(e.Body) > 512 {
			t.Fatalf("kept %d bytes of body", len(e.Body))
		}
		_ = e.Error()
		_ = e.Retryable()
	})
}
