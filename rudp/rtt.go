package rudp

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// RTT estimator defaults (RFC 6298 §2, with Linux's 200 ms floor instead of
// the RFC's conservative 1 s, as QUIC and most transports do).
const (
	DefaultInitialRTT = 333 * time.Millisecond
	DefaultMinRTO     = 200 * time.Millisecond
	DefaultMaxRTO     = 60 * time.Second
	// Granularity is the clock granularity G of RFC 6298 §2.
	Granularity = time.Millisecond
)

var _ congestion.RTTStats = (*RTTEstimator)(nil)

// RTTEstimator implements RFC 6298: SRTT, RTTVAR and RTO = SRTT +
// max(G, 4·RTTVAR) bounded by [MinRTO, MaxRTO]; it also keeps the minimum and
// latest samples for congestion control (it implements congestion.RTTStats).
// Samples come from timestamp echoes, so retransmitted packets give exact
// samples and Karn's rule is not needed.
//
// The zero value is ready to use with the Default* values. It is not safe
// for concurrent use: the session's run loop owns it.
type RTTEstimator struct {
	// InitialRTT, MinRTO, MaxRTO override the defaults when non-zero.
	InitialRTT, MinRTO, MaxRTO time.Duration

	srtt, rttvar, minRTT, latest time.Duration
	samples                      uint64
}

// Update adds one RTT sample. ackDelay (the peer's reported hold time) is
// subtracted when that leaves at least the minimum RTT (RFC 9002 §5.3).
// Non-positive samples are ignored.
func (r *RTTEstimator) Update(sample, ackDelay time.Duration) {
	if sample <= 0 {
		return
	}
	if r.samples == 0 || sample < r.minRTT {
		r.minRTT = sample
	}
	if sample-ackDelay >= r.minRTT {
		sample -= ackDelay
	}
	r.latest = sample
	if r.samples == 0 {
		r.srtt = sample
		r.rttvar = sample / 2
	} else {
		d := r.srtt - sample
		if d < 0 {
			d = -d
		}
		r.rttvar = (3*r.rttvar + d) / 4  // β = 1/4
		r.srtt = (7*r.srtt + sample) / 8 // α = 1/8
	}
	r.samples++
}

// HasSample reports whether any sample was taken.
func (r *RTTEstimator) HasSample() bool { return r.samples > 0 }

// Samples returns the number of samples taken.
func (r *RTTEstimator) Samples() uint64 { return r.samples }

// SmoothedRTT returns SRTT, or zero before the first sample.
func (r *RTTEstimator) SmoothedRTT() time.Duration { return r.srtt }

// MinRTT returns the smallest sample seen (zero before the first).
func (r *RTTEstimator) MinRTT() time.Duration { return r.minRTT }

// LatestRTT returns the last sample (ack delay removed).
func (r *RTTEstimator) LatestRTT() time.Duration { return r.latest }

// RTTVar returns RTTVAR; before the first sample, half the initial RTT.
func (r *RTTEstimator) RTTVar() time.Duration {
	if r.samples == 0 {
		return r.initialRTT() / 2
	}
	return r.rttvar
}

// SmoothedOrInitial returns SRTT, or the initial RTT before any sample.
func (r *RTTEstimator) SmoothedOrInitial() time.Duration {
	if r.samples == 0 {
		return r.initialRTT()
	}
	return r.srtt
}

func (r *RTTEstimator) initialRTT() time.Duration {
	if r.InitialRTT > 0 {
		return r.InitialRTT
	}
	return DefaultInitialRTT
}

// RTO returns the retransmission timeout without backoff.
func (r *RTTEstimator) RTO() time.Duration {
	rto := 3 * r.initialRTT() // RFC 6298 §2.1: 1 s for the default 333 ms
	if r.samples > 0 {
		rto = r.srtt + max(Granularity, 4*r.rttvar)
	}
	lo, hi := r.MinRTO, r.MaxRTO
	if lo <= 0 {
		lo = DefaultMinRTO
	}
	if hi <= 0 {
		hi = DefaultMaxRTO
	}
	return min(max(rto, lo), hi)
}

// BackedOff returns RTO·2^backoff, capped at the maximum RTO.
func (r *RTTEstimator) BackedOff(backoff int) time.Duration {
	hi := r.MaxRTO
	if hi <= 0 {
		hi = DefaultMaxRTO
	}
	d := r.RTO()
	for i := 0; i < backoff && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// PTO returns the probe timeout of RFC 9002 §6.2.1 for a tail-loss probe:
// SRTT + max(4·RTTVAR, G) + maxAckDelay.
func (r *RTTEstimator) PTO(maxAckDelay time.Duration) time.Duration {
	return r.SmoothedOrInitial() + max(4*r.RTTVar(), Granularity) + maxAckDelay
}
