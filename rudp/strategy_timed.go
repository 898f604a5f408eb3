package rudp

import "time"

// Timed is the timed-RTO strategy: the sender detects losses from the
// acknowledgement ranges (a hole passed by 3 later packets, or older than
// 9/8 RTT: fast retransmit), retransmits on a per-packet timer with
// exponential backoff, and runs a tail timer on the packets no later
// acknowledgement can reveal: the last three, and every live one of a
// short flight once acknowledgements stopped. Its delay is SRTT +
// max(4·RTTVAR, 2 ms), in a short flight at most the largest RTT of the
// last second + 2 ms, so a sparse sender (messages at 50 Hz) hit by a loss
// burst resends each lost message about one RTT after its last
// transmission, up to six times before the backed-off RTO takes over (a
// dead path); every acknowledgement of a later packet restarts the count,
// so a path that delivers anything never backs off.
//
// In a short flight the sender also runs RACK (RFC 8985 §6.2): a live
// transmission, a retransmission included, is lost as soon as a packet
// sent more than the reordering window after it is acknowledged (half the
// recent RTT spread, widened by each spurious RACK loss), instead of
// waiting for its own timer: the path is demonstrably alive.
//
// A short flight's resends (tail expiry, RACK or threshold loss) go out
// back to back as many times as the path's loss clustering asks: the sender
// measures P(lost | previous lost) over settled transmissions and sends
// enough copies that all are lost with a chance of at most 1/10 (two under
// random loss, up to six under Gilbert-Elliott bursts of mean length 3,
// four before any loss was seen); frames over 512 bytes and long (bulk)
// flights resend once, and twice on a tail expiry. The receiver sends no
// feedback beyond acknowledgements.
//
// Create it with NewTimed; it is not safe for concurrent use.
type Timed struct {
	t senderTimers
}

var _ Strategy = (*Timed)(nil)

// NewTimed returns a timed-RTO strategy acting on env. maxAckDelay is the
// peer's ack delay bound (0: DefaultMaxAckDelay).
func NewTimed(env Env, maxAckDelay time.Duration) *Timed {
	if maxAckDelay <= 0 {
		maxAckDelay = DefaultMaxAckDelay
	}
	return &Timed{t: senderTimers{env: env, packetThreshold: PacketThreshold, retransmitOnLoss: true, tailTimer: true, maxAckDelay: maxAckDelay}}
}

// Name returns "rto".
func (*Timed) Name() string { return "rto" }

// Overhead returns 0.
func (*Timed) Overhead() int { return 0 }

// TagSource never tags.
func (*Timed) TagSource(time.Time, uint64) (FECTag, bool) { return FECTag{}, false }

// OnPacketSent notes the send time for the tail-loss probe.
func (s *Timed) OnPacketSent(now time.Time, p *SentPacket, _ []byte) { s.t.onPacketSent(now, p) }

// OnAckReceived runs loss detection.
func (s *Timed) OnAckReceived(now time.Time, _ *AckFrame, largestNewlyAcked, newData bool) {
	s.t.onAck(now, largestNewlyAcked, newData)
}

// OnDataReceived does nothing.
func (*Timed) OnDataReceived(time.Time, uint64, FrameKind, uint64, *FECTag, []byte) {}

// OnRepairReceived does nothing.
func (*Timed) OnRepairReceived(time.Time, uint64, []byte) {}

// AppendFeedback adds nothing.
func (*Timed) AppendFeedback(time.Time, *AckFrame) {}

// NextTimeout returns the loss, probe or retransmission deadline.
func (s *Timed) NextTimeout() time.Time { return s.t.nextTimeout() }

// OnTimeout handles the expired timer.
func (s *Timed) OnTimeout(now time.Time) { s.t.onTimeout(now) }

// SetTailDelayExtra adds d to the tail timer's delay (SRTT +
// max(4·RTTVAR, TailGranularity), plus the ack delay for a packet that was
// not sparse); a wrapping strategy whose receiver rebuilds packets late
// (FEC) sets its repair delay here. Negative d disables the tail timer.
func (s *Timed) SetTailDelayExtra(d time.Duration) {
	s.t.tailTimer, s.t.tailExtra = d >= 0, max(d, 0)
}
