package congestion

import "time"

// Fixed is no congestion control: a constant window, never reduced by loss
// or timeouts (KCP's nocwnd mode). It is UNFAIR: beside a congestion-
// controlled flow it takes whatever the window allows and keeps a full
// bottleneck queue overflowing. Use it for media with its own rate control
// and for latency experiments, never as a default.
//
// Use NewFixed; the zero value allows nothing to be sent. Not safe for
// concurrent use.
type Fixed struct {
	window int
	flight int
	tracer Tracer
	traced bool
}

var _ Controller = (*Fixed)(nil)

// NewFixed returns a controller whose window is windowBytes (at least 1).
func NewFixed(windowBytes int) *Fixed { return &Fixed{window: max(windowBytes, 1)} }

// OnPacketSent implements Controller.
func (f *Fixed) OnPacketSent(now time.Time, _ uint64, bytes, bytesInFlight int) {
	f.flight = bytesInFlight + bytes
	if !f.traced && f.tracer != nil {
		f.traced = true
		f.tracer(Event{Time: now, State: f.State(), CWND: f.window, SSThresh: infiniteSSThresh, BytesInFlight: f.flight})
	}
}

// OnPacketAcked implements Controller.
func (f *Fixed) OnPacketAcked(_ time.Time, _ uint64, bytes, priorInFlight int) {
	f.flight = max(priorInFlight-bytes, 0)
}

// OnDuplicateAck implements Controller (ignored).
func (f *Fixed) OnDuplicateAck(time.Time) {}

// OnCongestionEvent implements Controller (ignored but for the flight).
func (f *Fixed) OnCongestionEvent(_ time.Time, _ uint64, lostBytes, priorInFlight int) {
	f.flight = max(priorInFlight-lostBytes, 0)
}

// OnRetransmissionTimeout implements Controller (ignored).
func (f *Fixed) OnRetransmissionTimeout(time.Time) {}

// CanSend implements Controller.
func (f *Fixed) CanSend(bytesInFlight int) bool { return bytesInFlight < f.window }

// TimeUntilSend implements Controller: never paced.
func (f *Fixed) TimeUntilSend(int) time.Time { return time.Time{} }

// CongestionWindow implements Controller.
func (f *Fixed) CongestionWindow() int { return f.window }

// SlowStartThreshold implements Controller.
func (f *Fixed) SlowStartThreshold() int { return infiniteSSThresh }

// PacingRate implements Controller: 0, no pacing.
func (f *Fixed) PacingRate() Bandwidth { return 0 }

// InSlowStart implements Controller.
func (f *Fixed) InSlowStart() bool { return false }

// InRecovery implements Controller.
func (f *Fixed) InRecovery() bool { return false }

// State implements Controller: "fixed".
func (f *Fixed) State() string { return "fixed" }
