// Package emulator is a Salesforce org in a box: OAuth 2.0, the REST API
// (sObjects, describe and its layouts, list views, Collections, Composite,
// SOQL query and query plans, limits) and Bulk API 2.0 and 1.0, served
// over HTTP with Salesforce's paths, status codes, JSON field names,
// headers and error codes (see shared/salesforce-api.md).
//
// It backs forcesync's demo and every test, and lets users build their own
// integrations offline. Real Salesforce clients (jsforce, the sf CLI) use it
// unmodified. It imports nothing else of forcesync's: it is an independent
// witness of the client's behaviour.
//
// Tests drive it through its admin API under /__emulator/ or its Go methods:
// fault injection, token expiry, seeding, lead conversion, call statistics.
package emulator
