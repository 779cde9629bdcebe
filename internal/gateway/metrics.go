package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus series (registered by the server on
// /metrics): calls by kind and outcome, latency by kind, the snapshot in
// force, and the audit committer's batching.
type metrics struct {
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics() metrics {
	return metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "xiangyun_gateway_calls_total",
			Help: "Gateway calls by kind (query, verify, service) and outcome (ok or the refusal code)."}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "xiangyun_gateway_call_seconds",
			Help:    "Gateway call latency by kind, audit append included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"kind"}),
	}
}

// Collectors returns the gateway's metrics for a registry.
func (g *Gateway) Collectors() []prometheus.Collector {
	return []prometheus.Collector{g.metrics.calls, g.metrics.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xiangyun_gateway_snapshot_version", Help: "Version of the grant snapshot in force on this node."},
			func() float64 { return float64(g.snap.Load().snap.Version) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xiangyun_gateway_audit_batches_total", Help: "Audit transactions written by the gateway's group committer."},
			func() float64 { b, _ := g.commit.Stats(); return float64(b) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xiangyun_gateway_audit_records_total", Help: "Audit records written by the gateway's group committer."},
			func() float64 { _, r := g.commit.Stats(); return float64(r) }),
	}
}
