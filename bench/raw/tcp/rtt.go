package tcp

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// rttEstimator is the RFC 6298 round-trip estimator. Samples come from
// segments that were never retransmitted (Karn's algorithm, RFC 6298 §3);
// it implements congestion.RTTStats for the congestion controller. The zero
// value has no sample; owned by the stack's goroutine.
type rttEstimator struct {
	srtt, rttvar time.Duration // RFC 6298 §2
	latest, min  time.Duration
	hasSample    bool
}

var _ congestion.RTTStats = (*rttEstimator)(nil)

// update folds one RTT measurement in (RFC 6298 §2.2 and §2.3).
func (r *rttEstimator) update(sample time.Duration) {
	if sample <= 0 {
		sample = time.Microsecond
	}
	r.latest = sample
	if !r.hasSample || sample < r.min {
		r.min = sample
	}
	if !r.hasSample {
		r.srtt = sample
		r.rttvar = sample / 2
		r.hasSample = true
		return
	}
	diff := r.srtt - sample
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = (3*r.rttvar + diff) / 4 // beta = 1/4
	r.srtt = (7*r.srtt + sample) / 8   // alpha = 1/8
}

// rto returns SRTT + max(G, 4·RTTVAR) clamped to [minRTO, maxRTO]; before
// the first sample it is initial (RFC 6298 §2.1: 1 s).
func (r *rttEstimator) rto(initial, minRTO, maxRTO time.Duration) time.Duration {
	if !r.hasSample {
		return initial
	}
	v := r.srtt + max(time.Millisecond, 4*r.rttvar)
	return min(max(v, minRTO), maxRTO)
}

// SmoothedRTT implements congestion.RTTStats; 0 before the first sample.
func (r *rttEstimator) SmoothedRTT() time.Duration { return r.srtt }

// MinRTT implements congestion.RTTStats.
func (r *rttEstimator) MinRTT() time.Duration { return r.min }

// LatestRTT implements congestion.RTTStats.
func (r *rttEstimator) LatestRTT() time.Duration { return r.latest }
