package schedule

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts leases and firings for /metrics. A nil *Metrics counts
// nothing.
type Metrics struct {
	acquiredC *prometheus.CounterVec
	lostC     *prometheus.CounterVec
	heldG     *prometheus.GaugeVec
	firedC    *prometheus.CounterVec
	skippedC  *prometheus.CounterVec
	failedC   *prometheus.CounterVec
	nextG     *prometheus.GaugeVec
}

// NewMetrics registers the leader and schedule metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		acquiredC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_leader_lease_acquired_total",
			Help: "Times this replica became the leader of a duty (lease pull:<mapping>, deliver:<sink>, schedule:<mapping>:<job>, reconcile:<mapping>)."}, []string{"lease"}),
		lostC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_leader_lease_lost_total",
			Help: "Times this replica lost a lease it held (another replica took it over, or the store could not renew it in time); a clean stop is not a loss."}, []string{"lease"}),
		heldG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "forcesync_leader_lease_held",
			Help: "1 while this replica holds the lease and runs its duty, 0 otherwise."}, []string{"lease"}),
		firedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_schedule_fired_total",
			Help: "Scheduled jobs this replica fired, by mapping and job (replay, resync)."}, []string{"mapping", "job"}),
		skippedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_schedule_skipped_total",
			Help: "Firings not run, by mapping, job and reason: missed (several firings fell due while no replica ran; one ran for all), fenced (the lease was lost before the firing could be recorded; the new leader fires it)."},
			[]string{"mapping", "job", "reason"}),
		failedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_schedule_failed_total",
			Help: "Scheduled jobs that fired and failed, by mapping and job; the next firing runs as usual."}, []string{"mapping", "job"}),
		nextG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "forcesync_schedule_next_timestamp_seconds",
			Help: "When the job fires next (Unix seconds), as its leader sees it; absent on other replicas."}, []string{"mapping", "job"}),
	}
	reg.MustRegister(m.acquiredC, m.lostC, m.heldG, m.firedC, m.skippedC, m.failedC, m.nextG)
	return m
}

func (m *Metrics) acquired(lease string) {
	if m != nil {
		m.acquiredC.WithLabelValues(lease).Inc()
		m.heldG.WithLabelValues(lease).Set(1)
	}
}

func (m *Metrics) released(lease string, lost bool) {
	if m != nil {
		m.heldG.WithLabelValues(lease).Set(0)
		if lost {
			m.lostC.WithLabelValues(lease).Inc()
		}
	}
}

func (m *Metrics) fired(j *Job) {
	if m != nil {
		m.firedC.WithLabelValues(j.Mapping, j.Kind).Inc()
	}
}

func (m *Metrics) skipped(j *Job, reason string, n int) {
	if m != nil {
		m.skippedC.WithLabelValues(j.Mapping, j.Kind, reason).Add(float64(n))
	}
}

func (m *Metrics) failed(j *Job) {
	if m != nil {
		m.failedC.WithLabelValues(j.Mapping, j.Kind).Inc()
	}
}

func (m *Metrics) next(j *Job, at float64) {
	if m != nil {
		if at == 0 {
			m.nextG.DeleteLabelValues(j.Mapping, j.Kind)
			return
		}
		m.nextG.WithLabelValues(j.Mapping, j.Kind).Set(at)
	}
}
