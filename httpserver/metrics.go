package httpserver

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_ingest_accepted_total",
			Help: "Changes accepted by the ingest API, by source."}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_ingest_rejected_total",
			Help: "Records refused by the ingest API for bad input, by source."}, []string{"source"}),
	}
	reg.MustRegister(m.accepted, m.rejected)
	return m
}
