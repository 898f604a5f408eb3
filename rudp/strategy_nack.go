package rudp

import "time"

// NACK is the receiver-driven strategy. The receiver keeps a NackList:
// a gap in the reliable sequence numbers seen at t1 is reported in the
// next ack once t1 + RTTVAR has passed, and again every RTO (see
// renackInterval) while missing, at most MaxReports times; arrivals
// (retransmitted ones included) leave the list at once. The sender
// retransmits exactly the NACKed frames, once per NACK: a frame already
// retransmitted less than one SRTT ago is not sent again for a duplicate
// report. Acknowledgements still release the send buffer and drive
// congestion control; a packet not acknowledged 9/8 RTT after a later one
// was leaves the flight, but only the NACK declares it lost (the
// congestion signal) and retransmits it, so reordering costs neither
// retransmissions nor window (the session still reports such a packet's
// late acknowledgement to congestion control as a delivery).
//
// The sender keeps Timed's tail timer (a sparse sender's lost message is
// resent about one RTT after it left, before the NACK that the next
// arrival triggers could come back) and, in a short flight, Timed's RACK
// rule (a transmission passed by the acknowledgement of a packet sent a
// reordering window later is resent at once); there an answered NACK's
// retransmission goes out as many times as the measured loss clustering
// asks, as Timed's resends do. The retransmission timer (at
// twice the RTO) remains the last resort for dead links and sequence
// numbers the receiver gave up on.
//
// Create it with NewNACK; it is not safe for concurrent use.
type NACK struct {
	env  Env
	t    senderTimers
	list NackList

	// Stats for tests and tracing.
	nacksReceived, nacksAnswered, nacksIgnored uint64
}

var _ Strategy = (*NACK)(nil)

// NewNACK returns a NACK strategy acting on env; maxReports bounds the
// reports per missing packet (0: DefaultNackRetries).
func NewNACK(env Env, maxAckDelay time.Duration, maxReports int) *NACK {
	if maxAckDelay <= 0 {
		maxAckDelay = DefaultMaxAckDelay
	}
	return &NACK{
		env:  env,
		t:    senderTimers{env: env, retransmitOnLoss: false, tailTimer: true, rtoExtraBackoff: 1, maxAckDelay: maxAckDelay},
		list: NackList{MaxReports: maxReports},
	}
}

// Name returns "nack".
func (*NACK) Name() string { return "nack" }

// Overhead returns 0.
func (*NACK) Overhead() int { return 0 }

// TagSource never tags.
func (*NACK) TagSource(time.Time, uint64) (FECTag, bool) { return FECTag{}, false }

// OnPacketSent notes the send time for the tail-loss probe.
func (s *NACK) OnPacketSent(now time.Time, p *SentPacket, _ []byte) { s.t.onPacketSent(now, p) }

// OnAckReceived answers the ack's NACK ranges and runs time-threshold
// loss detection (without retransmission).
func (s *NACK) OnAckReceived(now time.Time, ack *AckFrame, largestNewlyAcked, newData bool) {
	sb, h := s.env.SendBuffer(), s.env.History()
	srtt := s.env.RTT().SmoothedOrInitial()
	ref := sb.Next()
	short := ack.NumNacks > 0 && s.t.inShortFlight()
	resent, any := uint64(0), false
	for i := 0; i < ack.NumNacks; i++ {
		n := ack.Nacks[i]
		first := UnwrapPN(ref, n.First)
		for seq := first; seq < first+uint64(n.Count); seq++ {
			s.nacksReceived++
			f := sb.Get(seq)
			if f == nil || f.Acked || f.Queued {
				continue
			}
			// Once per NACK: a frame retransmitted within the last SRTT has
			// an answer on its way.
			if f.Transmissions > 1 && now.Sub(f.LastSent) < srtt {
				s.nacksIgnored++
				continue
			}
			s.nacksAnswered++
			if p := h.Get(f.LastPN); p != nil && !p.Acked {
				s.env.DeclareLost(now, p, true)
			}
			s.env.QueueRetransmit(seq)
			if short && !any {
				resent, any = seq, true
			}
		}
	}
	if any {
		// A short flight's loss: copies as for a tail expiry.
		s.t.repeat(resent, s.t.burst.copies(), 1)
	}
	s.t.onAck(now, largestNewlyAcked, newData)
}

// OnDataReceived updates the loss list with reliable arrivals.
func (s *NACK) OnDataReceived(now time.Time, pn uint64, kind FrameKind, seq uint64, _ *FECTag, _ []byte) {
	if kind.Reliable() {
		s.list.SRTT = s.env.RTT().SmoothedOrInitial()
		s.list.OnReceivedPacket(now, pn, seq, s.env.RecvCum())
	}
}

// OnRepairReceived does nothing.
func (*NACK) OnRepairReceived(time.Time, uint64, []byte) {}

func (s *NACK) reorderAllowance() time.Duration {
	return max(s.env.RTT().RTTVar(), Granularity)
}

// renackInterval is the re-report interval: RFC 6298's RTO formula
// (SRTT + 4·RTTVAR) plus the peer's ack delay, without the 200 ms floor.
// The floor protects a sender from spurious timeouts; a re-NACK that comes
// a little early costs one ignored report (the sender answers once per
// RTT), while a floored interval would stall delivery for ten RTTs on a
// 20 ms path whenever a retransmission is lost.
func (s *NACK) renackInterval() time.Duration {
	return s.env.RTT().PTO(s.t.maxAckDelay)
}

// AppendFeedback adds the due NACKs.
func (s *NACK) AppendFeedback(now time.Time, ack *AckFrame) {
	s.list.Fill(now, ack, s.reorderAllowance(), s.renackInterval())
}

// NextTimeout returns the earliest of the sender's timers and the next
// NACK due.
func (s *NACK) NextTimeout() time.Time {
	t := s.t.nextTimeout()
	if d := s.list.NextDue(s.reorderAllowance(), s.renackInterval()); !d.IsZero() && (t.IsZero() || d.Before(t)) {
		t = d
	}
	return t
}

// OnTimeout sends due NACKs and handles the sender's timers.
func (s *NACK) OnTimeout(now time.Time) {
	if d := s.list.NextDue(s.reorderAllowance(), s.renackInterval()); !d.IsZero() && !now.Before(d) {
		s.env.RequestAck()
	}
	if t := s.t.nextTimeout(); !t.IsZero() && !now.Before(t) {
		s.t.onTimeout(now)
	}
}

// NackStats reports NACKed sequence numbers received by the sender, how
// many were answered with a retransmission and how many were ignored as
// duplicate reports within an RTT.
func (s *NACK) NackStats() (received, answered, ignored uint64) {
	return s.nacksReceived, s.nacksAnswered, s.nacksIgnored
}

// LossList exposes the receiver's loss list (for tests).
func (s *NACK) LossList() *NackList { return &s.list }

// SetTailDelayExtra adds d to the tail timer's delay (SRTT +
// max(4·RTTVAR, TailGranularity), plus the ack delay for a packet that was
// not sparse); a wrapping strategy whose receiver rebuilds packets late
// (FEC) sets its repair delay here. Negative d disables the tail timer.
func (s *NACK) SetTailDelayExtra(d time.Duration) {
	s.t.tailTimer, s.t.tailExtra = d >= 0, max(d, 0)
}
