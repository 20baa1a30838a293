// Package schedule runs serve's duties that must happen once across
// replicas sharing a store: Leader holds named leader leases
// (forcesync.LeaderStore) and runs a duty only while it leads, handing it
// to another replica seconds after it died; Scheduler fires cron jobs (a
// mapping's schedule: block) under those leases, so each firing runs in
// one replica, and a firing missed while every replica was down runs once
// when one comes back.
package schedule
