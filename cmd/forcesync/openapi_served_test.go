package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// TestOpenAPIPlanAndReconcileServed validates the plan and reconcile
// routes with serve's own handlers wired (servedInspect over the store,
// the compiled mappings and the emulator), not their "not served" answer:
// each request and response is checked against openapi.json with
// libopenapi-validator. The engines do not run, so the queued records stay
// queued and the plan has a create, an update, a delete and a held record
// to describe.
func TestOpenAPIPlanAndReconcileServed(t *testing.T) {
	ctx := context.Background()
	doc, err := libopenapi.NewDocument(httpserver.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	_, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, serveConfig)
	r.push("client", clientChange("c1", "One", "one@example.com"), clientChange("c3", "Three", "three@example.com"),
		clientChange("bad", "Bad", "not-an-email"))
	r.accept("client", clientChange("c1", "Uno", "one@example.com"), clientChange("c2", "Two", "two@example.com"),
		forcesync.Change{Key: "c3", Op: forcesync.OpDelete})
	// Drift for reconcile: c1's name changed in Salesforce.
	sf := emuClient(t, url)
	for _, rec := range planQuery(t, sf, "SELECT Id, Forcesync_Key__c FROM Lead WHERE Forcesync_Key__c = 'c1'") {
		if _, err := sf.UpdateMany(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": rec.ID(), "LastName": "DRIFTED"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	env, logger := r.env(io.Discard), slog.New(slog.DiscardHandler)
	a, err := openApp(ctx, env, r.path, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	if err := a.openDoors(env, r.path, logger, nil); err != nil {
		t.Fatal(err)
	}

	type apiCase struct {
		method, path, body string
		want               int
		// bad: a request the description refuses on purpose (the
		// handler refuses it too); its response must still match.
		bad bool
	}
	bodies := map[string][]byte{}
	for _, tc := range []apiCase{
		{"GET", "/api/v1/plan", "", 200, false},
		{"GET", "/api/v1/plan?mapping=clients_to_leads", "", 200, false},
		{"GET", "/api/v1/plan?mapping=nope", "", 404, false},
		{"POST", "/api/v1/mappings/clients_to_leads/reconcile", "", 200, false},
		// A heal asks the mass-change guard, not flags of its own: the
		// old max_changes and yes are refused as unknown.
		{"POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true,"max_changes":0}`, 400, true},
		{"POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true,"yes":true}`, 400, true},
		{"POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true}`, 200, false},
		{"POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true,"colour":"red"}`, 400, true},
		{"POST", "/api/v1/mappings/nope/reconcile", "", 404, false},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer s3cret-token")
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			w := httptest.NewRecorder()
			a.server.ServeHTTP(w, req)
			res := w.Result()
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.want, w.Body.String())
			}
			bodies[tc.method+" "+tc.path+" "+tc.body] = w.Body.Bytes()
			fresh := func() *http.Request {
				q := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				q.Header = req.Header.Clone()
				return q
			}
			res.Body = io.NopCloser(bytes.NewReader(w.Body.Bytes()))
			if tc.bad {
				if ok, _ := v.ValidateHttpRequest(fresh()); ok {
					t.Errorf("the description accepts a request the handler refuses")
				}
				if ok, verrs := v.ValidateHttpResponse(fresh(), res); !ok {
					for _, e := range verrs {
						t.Errorf("%s (%s)", e.Error(), e.Reason)
					}
				}
				return
			}
			if ok, verrs := v.ValidateHttpRequestResponse(fresh(), res); !ok {
				for _, e := range verrs {
					t.Errorf("%s (%s)", e.Error(), e.Reason)
				}
				t.Logf("body: %s", w.Body.String())
			}
		})
	}

	// The bodies validated are the real ones, with content.
	var plan struct {
		Mappings []struct {
			Counts  map[string]int `json:"counts"`
			Records []struct {
				Key, Action string
				Changes     []map[string]any
				Payload     map[string]any
			} `json:"records"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(bodies["GET /api/v1/plan "], &plan); err != nil || len(plan.Mappings) != 1 {
		t.Fatalf("plan: %v %s", err, bodies["GET /api/v1/plan "])
	}
	c := plan.Mappings[0].Counts
	if c["create"] != 1 || c["update"] != 1 || c["delete"] != 1 {
		t.Fatalf("plan counts %v; want a create (c2), an update (c1) and a delete (c3)", c)
	}
	for _, rec := range plan.Mappings[0].Records {
		if rec.Key == "c1" && (rec.Action != "update" || len(rec.Changes) == 0 || rec.Payload["LastName"] != "Uno") {
			t.Errorf("c1's plan %+v", rec)
		}
	}
	var rec struct {
		Run      *forcesync.ReconcileRun `json:"run"`
		Findings []forcesync.Finding     `json:"findings"`
	}
	if err := json.Unmarshal(bodies[`POST /api/v1/mappings/clients_to_leads/reconcile {"heal":true}`], &rec); err != nil ||
		rec.Run == nil || len(rec.Findings) != 1 || rec.Findings[0].Healed || !strings.HasSuffix(rec.Findings[0].Detail, "; queued") {
		// bad is never synced (held): a heal queues it, it does not heal it.
		t.Fatalf("heal: %v %+v", err, rec)
	}
}
