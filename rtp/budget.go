package rtp

import (
	"math"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// Budget tells the Sender how fast it may send. Implementations are called
// on the owner's goroutine only and need not be safe for concurrent use.
type Budget interface {
	// Rate returns the sending rate allowed at now (0 = nothing may be sent).
	Rate(now time.Time) congestion.Bandwidth
	// OnReceiverReport feeds the loss fraction (0..1) and round trip from
	// an RTCP reception report about our stream that arrived at now; rtt is
	// 0 when unknown.
	OnReceiverReport(now time.Time, fractionLost float64, rtt time.Duration)
}

// FixedRate is a Budget of a constant rate; it ignores reports.
type FixedRate congestion.Bandwidth

// Rate returns r.
func (r FixedRate) Rate(time.Time) congestion.Bandwidth { return congestion.Bandwidth(r) }

// OnReceiverReport does nothing.
func (FixedRate) OnReceiverReport(time.Time, float64, time.Duration) {}

// LossBasedRate is a target bitrate driven by RTCP receiver reports, as in
// the loss-based half of Google Congestion Control
// (draft-ietf-rmcat-gcc-02 §6): above 10% loss the rate drops by half the
// loss fraction, below 2% it grows by 5% per second since the previous
// report, in between it holds. With DelayThreshold set it also backs off
// on queueing delay: the RTT from each report (SR→RR, so it crosses the
// forward bottleneck queue) above the smallest seen by more than the
// threshold cuts the rate by 15%, and by more than a quarter of the
// threshold holds it: only a report that saw (nearly) no queue lets the
// rate grow, since a standing queue below the threshold already means the
// rate is at or over the bottleneck, and growing would deepen it until an
// I frame no longer crosses it in time.
// Create with NewLossBasedRate. Not safe for concurrent use.
type LossBasedRate struct {
	// DelayThreshold enables the RTT-inflation rule (0: loss only).
	DelayThreshold time.Duration

	rate, min, max float64
	last           time.Time
	minRTT         time.Duration
}

// NewLossBasedRate returns a budget starting at initial and kept within
// [min, max] (max 0 = no upper bound).
func NewLossBasedRate(initial, min, max congestion.Bandwidth) *LossBasedRate {
	return &LossBasedRate{rate: float64(initial), min: float64(min), max: float64(max)}
}

// Rate returns the current target.
func (l *LossBasedRate) Rate(time.Time) congestion.Bandwidth { return congestion.Bandwidth(l.rate) }

// OnReceiverReport applies the GCC loss rule and the delay rule.
func (l *LossBasedRate) OnReceiverReport(now time.Time, loss float64, rtt time.Duration) {
	queued, queueing := false, false
	if rtt > 0 {
		if l.minRTT == 0 || rtt < l.minRTT {
			l.minRTT = rtt
		}
		queued = l.DelayThreshold > 0 && rtt > l.minRTT+l.DelayThreshold
		queueing = l.DelayThreshold > 0 && rtt > l.minRTT+l.DelayThreshold/4
	}
	switch {
	case loss > 0.10:
		l.rate *= 1 - 0.5*loss
	case queued:
		l.rate *= 0.85
	case loss < 0.02 && !queueing && !l.last.IsZero():
		l.rate *= math.Pow(1.05, min(now.Sub(l.last).Seconds(), 2))
	}
	l.last = now
	if l.rate < l.min {
		l.rate = l.min
	}
	if l.max > 0 && l.rate > l.max {
		l.rate = l.max
	}
}

// ControllerBudget derives a rate from a congestion.Controller: its pacing
// rate when it paces, otherwise its window per smoothed round trip. The
// controller's owner feeds it packet events (this needs per-packet
// acknowledgements, which plain RTP over a PacketConn does not provide; a
// skiff session does); reports are ignored here.
type ControllerBudget struct {
	Controller congestion.Controller
	RTT        congestion.RTTStats
}

// Rate returns the controller's rate.
func (c ControllerBudget) Rate(time.Time) congestion.Bandwidth {
	if r := c.Controller.PacingRate(); r > 0 {
		return r
	}
	srtt := c.RTT.SmoothedRTT()
	if srtt <= 0 {
		srtt = 100 * time.Millisecond
	}
	return congestion.Bandwidth(float64(c.Controller.CongestionWindow()*8) / srtt.Seconds())
}

// OnReceiverReport does nothing.
func (ControllerBudget) OnReceiverReport(time.Time, float64, time.Duration) {}
