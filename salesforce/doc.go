// Package salesforce is forcesync's client for Salesforce: OAuth 2.0 flows,
// REST sObject resources and describe, Collections, Composite, SOQL queries
// with paging, Bulk API 2.0, limits, and typed errors that own the retry
// decision. It is written for a real org over HTTPS and tested against the
// emulator.
package salesforce
