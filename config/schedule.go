package config

import (
	"time"
	_ "time/tzdata" // time zone names load on hosts without a zoneinfo database

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/schedule"
	"go.yaml.in/yaml/v3"
)

// DefaultLeaderLease is engine.leader_lease when the file leaves it out.
const DefaultLeaderLease = schedule.DefaultTTL

// Schedule is a mapping's schedule: block (issue 10): cron schedules to
// replay its source and to resync it in full, run once across replicas.
//
//	schedule:
//	  replay: "0 3 * * *"      # queue every record again; unchanged ones cost no call
//	  resync: "0 4 * * 0"      # push every record again, changed or not
//	  timezone: Europe/Paris   # default UTC
type Schedule struct {
	// Replay and Resync are cron schedules (five fields or a descriptor
	// such as @daily); either may be empty, not both.
	Replay, Resync string
	// Timezone is the IANA name the schedules are read in; "" means UTC.
	Timezone string
	// Location is Timezone loaded.
	Location *time.Location
}

// schedule reads a mapping's schedule: block.
func (p *parser) schedule(n *yaml.Node, path string) *Schedule {
	s := &Schedule{Location: time.UTC}
	cronKey := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			spec, ok := p.nonEmpty(v, path)
			if !ok {
				return
			}
			if _, err := schedule.Parse(spec); err != nil {
				p.errf(v, path, "%s", err)
				return
			}
			*dst = spec
		}
	}
	if !p.object(n, path, map[string]func(*yaml.Node, string){
		"replay": cronKey(&s.Replay),
		"resync": cronKey(&s.Resync),
		"timezone": func(v *yaml.Node, path string) {
			name, ok := p.nonEmpty(v, path)
			if !ok {
				return
			}
			loc, err := time.LoadLocation(name)
			if err != nil || name == "Local" {
				p.errf(v, path, "%q is not a time zone name such as UTC or Europe/Paris", name)
				return
			}
			s.Timezone, s.Location = name, loc
		},
	}) {
		return nil
	}
	if s.Replay == "" && s.Resync == "" && len(p.errs) == 0 {
		p.errf(n, path, "give replay, resync or both (cron schedules such as \"0 3 * * *\")")
	}
	return s
}

// setSchedule keeps mapping m's schedule, refused for a mapping that
// pushes nothing.
func (p *parser) setSchedule(n *yaml.Node, path string, m *forcesync.Mapping, s *Schedule) {
	if s == nil || m.Name == "" {
		return
	}
	if m.Direction == forcesync.Pull {
		p.errf(n, path+".schedule", "replay and resync push the source to Salesforce again, and a direction: pull mapping pushes nothing; its pulls run every pull.poll_interval")
		return
	}
	if p.cfg.Schedules == nil {
		p.cfg.Schedules = map[string]Schedule{}
	}
	p.cfg.Schedules[m.Name] = *s
}

// leaderLease reads engine.leader_lease: at least a second (it is renewed
// every third of it), at most a minute (a dead leader's duties wait that
// long).
func (p *parser) leaderLease(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := p.duration(n, path)
	if !ok {
		return 0, false
	}
	if d < time.Second || d > time.Minute {
		p.errf(n, path, "%s is out of range: give 1s to 1m (a dead replica's pulls and schedules wait about this long for another)", d)
		return 0, false
	}
	return d, true
}
