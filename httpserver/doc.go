// Package httpserver is forcesync's HTTP API: the ingest door
// (POST /api/v1/sources/{source}/records), record status, runs, failures,
// retries, health and Prometheus metrics. routes.go lists every route.
package httpserver
