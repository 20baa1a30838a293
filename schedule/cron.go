package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/robfig/cron/v3"
)

// Parse reads a cron schedule: five fields (minute hour day-of-month month
// day-of-week, as crontab(5)) or a descriptor (@hourly, @daily, @weekly,
// @monthly, @yearly, @every 6h). The time zone is given apart (a mapping's
// schedule.timezone), never inside the spec. A spec that fires more often
// than once a minute, or never, is refused.
func Parse(spec string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty; give five cron fields such as \"0 3 * * *\" or a descriptor such as @daily")
	}
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		return nil, fmt.Errorf("%q names a time zone; give it as timezone: beside the schedule", spec)
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron schedule (minute hour day-of-month month day-of-week, or @daily, @every 6h...): %v", spec, err)
	}
	if d, ok := s.(cron.ConstantDelaySchedule); ok && d.Delay < time.Minute {
		return nil, fmt.Errorf("%q fires more often than once a minute", spec)
	}
	if s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%q never fires", spec)
	}
	return s, nil
}

// Job is one scheduled duty of a mapping.
type Job struct {
	// Mapping and Kind (replay, resync) name the job in logs and metrics;
	// its lease is "schedule:<mapping>:<kind>".
	Mapping, Kind string
	// Spec is the cron schedule (see Parse), read in Location (nil: UTC).
	Spec     string
	Location *time.Location
	// Run does the job's work; its context ends when the lease is lost
	// or serve stops.
	Run func(ctx context.Context) error
}

// Lease is the name of the job's leader lease.
func (j *Job) Lease() string { return "schedule:" + j.Mapping + ":" + j.Kind }

// Scheduler fires jobs on their cron schedules, each in one replica at a
// time (the holder of its lease).
//
// The rule for firings: the lease keeps the due time of the job's last
// firing (its mark), whoever fired it. The leader waits for the next due
// time after the mark; when it comes, it records it as the new mark,
// fenced by its token, and only then runs the job, so a firing runs at
// most once however replicas come and go. When the leader finds several
// due times passed (every replica was down, or the leader died and the
// next took over late), it runs the job once, for the latest of them, and
// counts the others as skipped (missed). A job seen for the first time
// does not fire at once: its schedule counts from that moment. A firing
// whose run fails is logged and counted, not retried; the next runs as
// usual.
type Scheduler struct {
	Leader  *Leader
	Jobs    []Job
	Logger  *slog.Logger
	Metrics *Metrics // may be nil
	// Now and After are the time source and its timer; nil means
	// time.Now and time.After.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Fired, when set, is called after each firing's run (tests wait on it).
	Fired func(j Job, due time.Time, err error)
}

// Run fires the jobs until ctx ends. It returns an error only for a job
// whose schedule does not parse.
func (s *Scheduler) Run(ctx context.Context) error {
	scheds := make([]cron.Schedule, len(s.Jobs))
	for i := range s.Jobs {
		sc, err := Parse(s.Jobs[i].Spec)
		if err != nil {
			return fmt.Errorf("mapping %s: schedule.%s: %w", s.Jobs[i].Mapping, s.Jobs[i].Kind, err)
		}
		scheds[i] = sc
	}
	var wg sync.WaitGroup
	for i := range s.Jobs {
		j := &s.Jobs[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Leader.Lead(ctx, j.Lease(), func(ctx context.Context, l forcesync.Lease) { s.lead(ctx, j, scheds[i], l) })
		}()
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) after(d time.Duration) <-chan time.Time {
	if s.After != nil {
		return s.After(d)
	}
	return time.After(d)
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// lead fires j while this replica holds its lease l.
func (s *Scheduler) lead(ctx context.Context, j *Job, sc cron.Schedule, l forcesync.Lease) {
	log := s.logger().With("mapping", j.Mapping, "job", j.Kind)
	loc := j.Location
	if loc == nil {
		loc = time.UTC
	}
	defer s.Metrics.next(j, 0)
	mark := l.Mark
	if mark.IsZero() {
		// First sight: count from now.
		mark = s.now()
		if !s.record(ctx, j, l, mark, false, log) {
			return
		}
	}
	for {
		due := sc.Next(mark.In(loc))
		s.Metrics.next(j, float64(due.Unix()))
		if wait := due.Sub(s.now()); wait > 0 {
			// Wake at least every minute, so a clock that jumped (a
			// suspended machine) is noticed.
			select {
			case <-ctx.Done():
				return
			case <-s.after(min(wait, time.Minute)):
			}
			continue
		}
		// Due: catch up to the latest due time that has passed.
		missed := 0
		for now := s.now(); missed < 1_000_000; missed++ {
			n := sc.Next(due)
			if n.After(now) || n.IsZero() {
				break
			}
			due = n
		}
		if !s.record(ctx, j, l, due, true, log) {
			return
		}
		mark = due
		if missed > 0 {
			s.Metrics.skipped(j, "missed", missed)
			log.Warn("schedule: firings missed while no replica ran; running once for all", "event", "schedule.missed", "missed", missed, "due", due)
		}
		s.Metrics.fired(j)
		log.Info("schedule fired", "event", "schedule.fired", "due", due, "lease", j.Lease(), "token", l.Token)
		stopping := ctx.Err() != nil
		s.run(ctx, j, due, log)
		if stopping {
			return
		}
	}
}

// run runs one firing of j. A firing recorded just as the lease ended is
// this replica's, and no other replica will run it: it runs all the same,
// for at most a minute.
func (s *Scheduler) run(ctx context.Context, j *Job, due time.Time, log *slog.Logger) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
	}
	err := j.Run(ctx)
	if err != nil {
		s.Metrics.failed(j)
		log.Error("scheduled job failed", "event", "schedule.failed", "due", due, "err", err)
	}
	if s.Fired != nil {
		s.Fired(*j, due, err)
	}
}

// record notes due as the job's last firing (or, not firing, the moment
// its schedule starts counting from) under the lease's token; false when
// the lease was lost (the new leader fires it) or ctx ended.
func (s *Scheduler) record(ctx context.Context, j *Job, l forcesync.Lease, due time.Time, firing bool, log *slog.Logger) bool {
	for {
		ok, err := s.Leader.Store.MarkLease(ctx, j.Lease(), l.Token, due)
		switch {
		case err == nil && ok:
			return true
		case err == nil && !firing:
			return false
		case err == nil:
			s.Metrics.skipped(j, "fenced", 1)
			log.Warn("schedule: lease lost before the firing was recorded; the new leader fires it", "event", "schedule.fenced", "due", due, "token", l.Token)
			return false
		case ctx.Err() != nil:
			return false
		}
		log.Warn("schedule: recording the firing failed; retrying", "event", "schedule.record_error", "due", due, "err", err)
		if !sleep(ctx, time.Second) {
			return false
		}
	}
}
