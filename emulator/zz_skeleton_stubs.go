package emulator

// This file holds the minimum for the skeleton to compile. The owner of each
// piece replaces it with the real thing in its own file and deletes the stub here.

import "time"

type org struct{}

func newOrg(cfg Config, now func() time.Time) (*org, error) { return &org{}, nil }

type faultSet struct{}

func newFaultSet() *faultSet { return &faultSet{} }

func (e *Emulator) applyFaults(c *call) bool { return false }

func (e *Emulator) spendAPICall(c *call) bool { return true }

func (e *Emulator) orgID() string { return "00D5e000000FrcSEAS" }
