package congestion

import "time"

// NewReno is the RFC 5681 window arithmetic with the RFC 6582 (NewReno)
// recovery rule, counted in bytes:
//
//   - slow start (cwnd < ssthresh): cwnd += acked bytes (RFC 5681 §3.1,
//     doubling per round trip);
//   - congestion avoidance: +1 SMSS per cwnd of acked bytes (appropriate
//     byte counting, RFC 3465), about one segment per round trip;
//   - loss declared by the caller (3 duplicate acks or a SACK hole):
//     ssthresh = max(FlightSize/2, 2·SMSS), cwnd = ssthresh + 3·SMSS
//     (RFC 5681 §3.2 steps 2-3), +1 SMSS per OnDuplicateAck (step 4);
//   - an ack of a packet sent after recovery began (a full ack, RFC 6582
//     §3.2 step 3) deflates cwnd to ssthresh and ends recovery; acks of
//     older packets (partial acks) keep recovery and deflate cwnd by the
//     acked bytes, adding one SMSS back when at least one SMSS was acked;
//   - retransmission timeout: ssthresh = max(FlightSize/2, 2·SMSS) (held
//     if the previous RTO has not been recovered from, RFC 5681 §3.1 eq. 4
//     note), cwnd = 1·SMSS, slow start.
//
// One reduction per loss event: a loss of a packet numbered at or below
// the largest packet sent when the last reduction happened is ignored.
//
// Callers with per-packet (selective) acknowledgements, which remove every
// acked packet from the flight, must not also report those acks through
// OnDuplicateAck: that inflation only compensates TCP's cumulative acks.
//
// Growth happens only while the window was the limit (RFC 7661 in spirit):
// an application-limited sender does not inflate cwnd it does not use.
//
// Use NewNewReno; the zero value is not usable. Not safe for concurrent use.
type NewReno struct {
	mss       int
	minWindow int
	maxWindow int
	rtt       RTTStats
	noPacing  bool

	cwnd         int // RFC 5681 cwnd, bytes
	ssthresh     int // RFC 5681 ssthresh, bytes
	bytesAckedCA int // RFC 3465 bytes_acked in congestion avoidance
	flight       int // bytes in flight after the last event

	largestSent    uint64
	recoveryStart  uint64 // RFC 6582 "recover": largest sent at the last reduction
	reduced        bool   // recoveryStart is valid
	inRecovery     bool   // RFC 5681 §3.2 fast recovery
	rtoUnrecovered bool   // an RTO happened and no later packet was acked yet

	lastLimitedPN uint64 // largest packet sent while cwnd-limited
	limited       bool

	pacer Pacer
	trace tracePoint
}

var _ Controller = (*NewReno)(nil)

// NewNewReno returns a NewReno controller in slow start with cwnd equal to
// the initial window. cfg should have passed Validate; out-of-range fields
// are replaced by defaults.
func NewNewReno(cfg Config) *NewReno {
	c := cfg.withDefaults()
	r := &NewReno{
		mss:       c.MaxDatagramSize,
		minWindow: c.MinWindowPackets * c.MaxDatagramSize,
		maxWindow: c.MaxWindowBytes,
		rtt:       c.RTT,
		noPacing:  c.DisablePacing,
		cwnd:      c.InitialWindowPackets * c.MaxDatagramSize,
		ssthresh:  infiniteSSThresh,
	}
	r.pacer.init(c.MaxDatagramSize, c.PacingBurstPackets)
	r.trace.tracer = c.Tracer
	return r
}

// OnPacketSent implements Controller.
func (r *NewReno) OnPacketSent(now time.Time, pn uint64, bytes, bytesInFlight int) {
	r.largestSent = pn
	r.flight = bytesInFlight + bytes
	if r.flight >= r.cwnd-3*r.mss || (r.InSlowStart() && 2*r.flight >= r.cwnd) {
		r.lastLimitedPN, r.limited = pn, true
	}
	r.pacer.OnPacketSent(now, bytes, r.PacingRate())
}

// OnPacketAcked implements Controller.
func (r *NewReno) OnPacketAcked(now time.Time, pn uint64, bytes, priorInFlight int) {
	r.flight = max(priorInFlight-bytes, 0)
	if r.rtoUnrecovered && pn > r.recoveryStart {
		r.rtoUnrecovered = false
	}
	if r.inRecovery {
		if pn > r.recoveryStart { // full ack: RFC 6582 §3.2 step 3
			r.inRecovery = false
			r.cwnd = r.ssthresh
			r.bytesAckedCA = 0
		} else { // partial ack: deflate by the acked bytes, add back one SMSS
			r.cwnd -= bytes
			if bytes >= r.mss {
				r.cwnd += r.mss
			}
			r.cwnd = max(r.cwnd, r.minWindow)
		}
		r.emit(now)
		return
	}
	if !r.limited || pn > r.lastLimitedPN {
		return // application-limited: do not grow an unused window
	}
	if r.cwnd < r.ssthresh {
		r.cwnd += min(bytes, r.mss) // RFC 5681 eq. 2
	} else {
		r.bytesAckedCA += bytes
		if r.bytesAckedCA >= r.cwnd {
			r.bytesAckedCA -= r.cwnd
			r.cwnd += r.mss
		}
	}
	r.cwnd = min(r.cwnd, r.maxWindow)
	r.emit(now)
}

// OnDuplicateAck implements Controller: +1 SMSS while in fast recovery.
func (r *NewReno) OnDuplicateAck(now time.Time) {
	if !r.inRecovery {
		return
	}
	r.cwnd = min(r.cwnd+r.mss, r.maxWindow)
	r.emit(now)
}

// OnCongestionEvent implements Controller.
func (r *NewReno) OnCongestionEvent(now time.Time, pn uint64, lostBytes, priorInFlight int) {
	r.flight = max(priorInFlight-lostBytes, 0)
	if r.reduced && pn <= r.recoveryStart {
		return // same loss event: one reduction per window
	}
	r.ssthresh = max(priorInFlight/2, 2*r.mss, r.minWindow)
	r.cwnd = r.ssthresh + 3*r.mss
	r.bytesAckedCA = 0
	r.inRecovery = true
	r.reduced, r.recoveryStart = true, r.largestSent
	r.emit(now)
}

// OnRetransmissionTimeout implements Controller.
func (r *NewReno) OnRetransmissionTimeout(now time.Time) {
	if !r.rtoUnrecovered {
		r.ssthresh = max(r.flight/2, 2*r.mss)
	}
	r.rtoUnrecovered = true
	r.cwnd = r.mss
	r.bytesAckedCA = 0
	r.inRecovery = false
	r.reduced, r.recoveryStart = true, r.largestSent
	r.emit(now)
}

// CanSend implements Controller.
func (r *NewReno) CanSend(bytesInFlight int) bool { return bytesInFlight < r.cwnd }

// TimeUntilSend implements Controller.
func (r *NewReno) TimeUntilSend(int) time.Time {
	if r.noPacing {
		return time.Time{}
	}
	return r.pacer.TimeUntilSend(r.PacingRate())
}

// CongestionWindow implements Controller.
func (r *NewReno) CongestionWindow() int { return r.cwnd }

// SlowStartThreshold implements Controller.
func (r *NewReno) SlowStartThreshold() int { return r.ssthresh }

// PacingRate implements Controller: cwnd/SRTT × 2 in slow start, × 1.25
// otherwise; 0 (no pacing) without an RTT sample or with pacing disabled.
func (r *NewReno) PacingRate() Bandwidth {
	if r.noPacing || r.rtt == nil {
		return 0
	}
	gain := 1.25
	if r.InSlowStart() {
		gain = 2
	}
	return rateFromWindow(r.cwnd, r.rtt.SmoothedRTT(), gain)
}

// InSlowStart implements Controller.
func (r *NewReno) InSlowStart() bool { return !r.inRecovery && r.cwnd < r.ssthresh }

// InRecovery implements Controller.
func (r *NewReno) InRecovery() bool { return r.inRecovery }

// State implements Controller: "slow_start", "congestion_avoidance" or
// "recovery".
func (r *NewReno) State() string {
	switch {
	case r.inRecovery:
		return "recovery"
	case r.cwnd < r.ssthresh:
		return "slow_start"
	}
	return "congestion_avoidance"
}

func (r *NewReno) emit(now time.Time) {
	r.trace.emit(now, r.cwnd, r.ssthresh, r.flight, r.State(), r.PacingRate())
}
