package congestion

import (
	"math"
	"time"
)

// CUBIC constants, RFC 9438 §4.
const (
	cubicBeta  = 0.7                                   // β_cubic, §4.6
	cubicC     = 0.4                                   // C, §4.2
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta) // α_cubic, §4.3
)

// Cubic is RFC 9438 CUBIC, counted in bytes:
//
//   - slow start as Reno (no HyStart);
//   - congestion avoidance: W_cubic(t) = C·(t−K)³ + W_max in segments, t in
//     seconds since the epoch began (the first ack after a reduction),
//     K = ∛((W_max − cwnd_epoch)/C); per acked byte cwnd moves towards
//     target = W_cubic(t+SRTT) clamped to [cwnd, 1.5·cwnd] (§4.2);
//   - the Reno-friendly region (§4.3): W_est starts at cwnd_epoch and grows
//     by α_cubic segments per cwnd acked (1 once W_est ≥ W_max); when
//     W_cubic(t) < W_est, cwnd = W_est;
//   - on a loss event: fast convergence (§4.7) W_max = cwnd·(1+β)/2 if
//     cwnd < the previous W_max, else W_max = cwnd; ssthresh = cwnd·β,
//     cwnd = ssthresh (§4.6), no growth until an ack of a packet sent after
//     the reduction ends recovery; one reduction per window as NewReno;
//   - on RTO (§4.8): the same W_max/ssthresh update, cwnd = 1·SMSS.
//
// Use NewCubic; the zero value is not usable. Not safe for concurrent use.
type Cubic struct {
	mss       int
	minWindow int
	maxWindow int
	rtt       RTTStats
	noPacing  bool

	cwnd     float64 // bytes
	ssthresh int     // bytes

	wMax       float64   // bytes, §4.2 W_max
	k          float64   // seconds, §4.2 K
	epochStart time.Time // §4.2 t_epoch; zero: no epoch
	wEst       float64   // bytes, §4.3 W_est
	flight     int

	largestSent    uint64
	recoveryStart  uint64
	reduced        bool
	inRecovery     bool
	rtoUnrecovered bool
	lastLimitedPN  uint64
	limited        bool

	pacer Pacer
	trace tracePoint
}

var _ Controller = (*Cubic)(nil)

// NewCubic returns a CUBIC controller in slow start. cfg should have passed
// Validate; out-of-range fields are replaced by defaults.
func NewCubic(cfg Config) *Cubic {
	c := cfg.withDefaults()
	cu := &Cubic{
		mss:       c.MaxDatagramSize,
		minWindow: c.MinWindowPackets * c.MaxDatagramSize,
		maxWindow: c.MaxWindowBytes,
		rtt:       c.RTT,
		noPacing:  c.DisablePacing,
		cwnd:      float64(c.InitialWindowPackets * c.MaxDatagramSize),
		ssthresh:  infiniteSSThresh,
	}
	cu.pacer.init(c.MaxDatagramSize, c.PacingBurstPackets)
	cu.trace.tracer = c.Tracer
	return cu
}

// OnPacketSent implements Controller.
func (c *Cubic) OnPacketSent(now time.Time, pn uint64, bytes, bytesInFlight int) {
	c.largestSent = pn
	c.flight = bytesInFlight + bytes
	cw := c.CongestionWindow()
	if c.flight >= cw-3*c.mss || (c.InSlowStart() && 2*c.flight >= cw) {
		c.lastLimitedPN, c.limited = pn, true
	}
	c.pacer.OnPacketSent(now, bytes, c.PacingRate())
}

// OnPacketAcked implements Controller.
func (c *Cubic) OnPacketAcked(now time.Time, pn uint64, bytes, priorInFlight int) {
	c.flight = max(priorInFlight-bytes, 0)
	if c.rtoUnrecovered && pn > c.recoveryStart {
		c.rtoUnrecovered = false
	}
	if c.inRecovery {
		if pn > c.recoveryStart {
			c.inRecovery = false
			c.emit(now)
		}
		return
	}
	if !c.limited || pn > c.lastLimitedPN {
		return
	}
	if c.cwnd < float64(c.ssthresh) {
		c.cwnd += float64(min(bytes, c.mss))
	} else {
		c.congestionAvoidance(now, bytes)
	}
	c.cwnd = min(c.cwnd, float64(c.maxWindow))
	c.emit(now)
}

// congestionAvoidance applies RFC 9438 §4.2-4.4 for one ack of bytes.
func (c *Cubic) congestionAvoidance(now time.Time, bytes int) {
	mss := float64(c.mss)
	if c.epochStart.IsZero() {
		c.epochStart = now
		c.wEst = c.cwnd
		if c.cwnd < c.wMax {
			c.k = math.Cbrt((c.wMax - c.cwnd) / mss / cubicC)
		} else {
			c.k, c.wMax = 0, c.cwnd
		}
	}
	t := now.Sub(c.epochStart).Seconds()
	var srtt float64
	if c.rtt != nil {
		srtt = c.rtt.SmoothedRTT().Seconds()
	}
	alpha := cubicAlpha
	if c.wEst >= c.wMax {
		alpha = 1
	}
	c.wEst += alpha * float64(bytes) * mss / c.cwnd
	if c.wCubic(t) < c.wEst { // Reno-friendly region
		c.cwnd = max(c.cwnd, c.wEst)
		return
	}
	target := min(max(c.wCubic(t+srtt), c.cwnd), 1.5*c.cwnd)
	c.cwnd += (target - c.cwnd) * float64(bytes) / c.cwnd
}

// wCubic is W_cubic(t) in bytes (RFC 9438 eq. 1).
func (c *Cubic) wCubic(t float64) float64 {
	d := t - c.k
	return cubicC*d*d*d*float64(c.mss) + c.wMax
}

// reduce applies the multiplicative decrease shared by loss and RTO.
func (c *Cubic) reduce() {
	if c.cwnd < c.wMax { // fast convergence, §4.7
		c.wMax = c.cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = c.cwnd
	}
	c.epochStart = time.Time{}
	c.ssthresh = max(int(c.cwnd*cubicBeta), c.minWindow, 2*c.mss)
	c.reduced, c.recoveryStart = true, c.largestSent
}

// OnDuplicateAck implements Controller (CUBIC does not inflate).
func (c *Cubic) OnDuplicateAck(time.Time) {}

// OnCongestionEvent implements Controller.
func (c *Cubic) OnCongestionEvent(now time.Time, pn uint64, lostBytes, priorInFlight int) {
	c.flight = max(priorInFlight-lostBytes, 0)
	if c.reduced && pn <= c.recoveryStart {
		return
	}
	c.reduce()
	c.cwnd = float64(c.ssthresh)
	c.inRecovery = true
	c.emit(now)
}

// OnRetransmissionTimeout implements Controller.
func (c *Cubic) OnRetransmissionTimeout(now time.Time) {
	ss := c.ssthresh
	c.reduce()
	if c.rtoUnrecovered {
		c.ssthresh = ss
	}
	c.rtoUnrecovered = true
	c.cwnd = float64(c.mss)
	c.inRecovery = false
	c.emit(now)
}

// CanSend implements Controller.
func (c *Cubic) CanSend(bytesInFlight int) bool { return bytesInFlight < c.CongestionWindow() }

// TimeUntilSend implements Controller.
func (c *Cubic) TimeUntilSend(int) time.Time {
	if c.noPacing {
		return time.Time{}
	}
	return c.pacer.TimeUntilSend(c.PacingRate())
}

// CongestionWindow implements Controller.
func (c *Cubic) CongestionWindow() int { return int(c.cwnd) }

// SlowStartThreshold implements Controller.
func (c *Cubic) SlowStartThreshold() int { return c.ssthresh }

// PacingRate implements Controller: cwnd/SRTT × 2 in slow start, × 1.25
// otherwise; 0 without an RTT sample or with pacing disabled.
func (c *Cubic) PacingRate() Bandwidth {
	if c.noPacing || c.rtt == nil {
		return 0
	}
	gain := 1.25
	if c.InSlowStart() {
		gain = 2
	}
	return rateFromWindow(c.CongestionWindow(), c.rtt.SmoothedRTT(), gain)
}

// InSlowStart implements Controller.
func (c *Cubic) InSlowStart() bool { return !c.inRecovery && c.cwnd < float64(c.ssthresh) }

// InRecovery implements Controller.
func (c *Cubic) InRecovery() bool { return c.inRecovery }

// State implements Controller: "slow_start", "congestion_avoidance" or
// "recovery".
func (c *Cubic) State() string {
	switch {
	case c.inRecovery:
		return "recovery"
	case c.cwnd < float64(c.ssthresh):
		return "slow_start"
	}
	return "congestion_avoidance"
}

func (c *Cubic) emit(now time.Time) {
	c.trace.emit(now, c.CongestionWindow(), c.ssthresh, c.flight, c.State(), c.PacingRate())
}
