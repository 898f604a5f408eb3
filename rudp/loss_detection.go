package rudp

import "time"

// Loss-detection constants (RFC 9002 §6.1).
const (
	// PacketThreshold: a packet is lost when this many later packets were
	// acknowledged (the equivalent of TCP's three duplicate acks).
	PacketThreshold = 3
	// DefaultMaxAckDelay is how long a receiver may delay an ack.
	DefaultMaxAckDelay = 10 * time.Millisecond
)

// Outstanding reports whether transmission p still matters: it is in
// flight, or it is the newest transmission of a reliable frame that is
// neither acknowledged nor queued for retransmission (its retransmission
// timer is still running).
func Outstanding(sb *SendBuffer, p *SentPacket) bool {
	if p.Acked {
		return false
	}
	if p.InFlight {
		return true
	}
	if !p.HasSeq {
		return false
	}
	f := sb.Get(p.Seq)
	return f != nil && !f.Acked && !f.Queued && f.LastPN == p.PN
}

// PruneHistory drops finished transmissions from the front of h. Packets
// declared lost are kept while sent after keepLostSince, so that a late
// acknowledgement still finds them and reveals the reordering.
func PruneHistory(h *SentHistory, sb *SendBuffer, keepLostSince time.Time) {
	h.Prune(func(p *SentPacket) bool {
		if p.Acked {
			return true
		}
		return !Outstanding(sb, p) && !(p.Lost && p.Time.After(keepLostSince))
	})
}

// LostRetention is how long lost packets stay in the history: two RTOs.
func LostRetention(r *RTTEstimator) time.Duration { return 2 * r.RTO() }

// senderTimers is the sender machinery both ARQ strategies share: loss
// detection by packet and time thresholds (RFC 9002 §6.1), the
// retransmission timer with exponential backoff (RFC 6298 §5) and the
// tail-loss probe (RFC 8985 §7). It is a pure state machine over an Env.
type senderTimers struct {
	env Env
	// packetThreshold enables packet-threshold loss detection when > 0.
	packetThreshold uint64
	// retransmitOnLoss: detected losses are declared (congestion signal)
	// and their frames queued at once (timed RTO); false: presumed-lost
	// packets only leave the flight, and the receiver's NACK declares the
	// loss (NACK strategy), so reordering causes neither retransmissions
	// nor congestion signals.
	retransmitOnLoss bool
	// rtoExtraBackoff makes the retransmission timer a last resort (NACK).
	rtoExtraBackoff int
	maxAckDelay     time.Duration

	// cursor: no transmission below it is outstanding (outstanding-ness
	// never returns once lost), so scans start here.
	cursor uint64

	// tailTimer enables the tail-loss timer (see tailDeadline); tailExtra
	// is added to its delay.
	tailTimer bool
	tailExtra time.Duration

	backoff   int
	probes    int
	tailFires int       // tail timer expiries since the last acknowledgement
	lastAck   time.Time // last acknowledgement of a new packet or frame
	lossTime  time.Time
	lastSent  time.Time // last ack-eliciting transmission
	probeLeft bool      // a tail-loss probe may be sent before the RTO

	// dupSeq is the frame a tail expiry sends twice (RFC 9002 §6.2.4: two
	// probe datagrams): when its first copy leaves, it is queued again.
	dupSeq  uint64
	dupLeft int // copies of dupSeq still to queue

	// rttMax is the largest of the recent RTT samples (sparse tail delay).
	rttMax     rttMaxFilter
	rttSamples uint64 // the estimator's sample count at the last look
	// gaps holds, for the recent ack-eliciting transmissions, the time
	// since the one before (whether the peer acknowledges it at once),
	// also once the one before left the history.
	gaps [64]struct {
		pn  uint64
		gap time.Duration
	}
	// rack is the RACK state of short flights.
	rack rackState
	// burst estimates P(lost | previous lost) from settled transmissions;
	// a short flight's tail expiry sends as many copies as it takes.
	burst burstEstimator
}

func (s *senderTimers) onPacketSent(now time.Time, p *SentPacket) {
	if p.AckEliciting {
		g := &s.gaps[p.PN%uint64(len(s.gaps))]
		g.pn, g.gap = p.PN, now.Sub(s.lastSent)
		if s.lastSent.IsZero() {
			g.gap = time.Duration(1<<63 - 1)
		}
		s.lastSent = now
	}
	if s.dupLeft > 0 && p.HasSeq && p.Seq == s.dupSeq {
		s.dupLeft--
		s.env.QueueRetransmit(p.Seq)
	}
}

func (s *senderTimers) onAck(now time.Time, largestNewlyAcked, newData bool) {
	if r := s.env.RTT(); r.Samples() != s.rttSamples {
		s.rttSamples = r.Samples()
		s.rttMax.add(now, r.LatestRTT(), r.SmoothedOrInitial())
	}
	if largestNewlyAcked || newData {
		s.backoff, s.probes, s.tailFires = 0, 0, 0
		s.lastAck = now
	}
	if largestNewlyAcked {
		s.rack.ackAt = now
	}
	s.rack.checkSpurious(s.env.History())
	s.detectLosses(now)
}

// lossDelay is 9/8·max(SRTT, latest RTT) (RFC 9002 §6.1.2), at least the
// granularity; once reordering was observed (a spurious loss), at least
// SRTT + 4·RTTVAR + max ack delay, i.e. the delay covers the RTT's jitter
// (RFC 8985's adaptive reordering window, in spirit).
func (s *senderTimers) lossDelay() time.Duration {
	r := s.env.RTT()
	d := 9 * max(r.SmoothedOrInitial(), r.LatestRTT()) / 8
	if _, spurious := s.env.History().Reordering(); spurious > 0 {
		d = max(d, r.SmoothedOrInitial()+4*r.RTTVar()) + s.maxAckDelay
	}
	return max(d, Granularity)
}

// threshold is the packet threshold, raised past the largest reordering
// distance observed (at most maxPacketThreshold).
func (s *senderTimers) threshold() uint64 {
	if s.packetThreshold == 0 {
		return 0
	}
	d, _ := s.env.History().Reordering()
	return min(max(s.packetThreshold, d+1), maxPacketThreshold)
}

// maxPacketThreshold caps the adaptive packet threshold.
const maxPacketThreshold = 256

func (s *senderTimers) detectLosses(now time.Time) {
	h, sb := s.env.History(), s.env.SendBuffer()
	s.lossTime = time.Time{}
	largest, ok := h.LargestAcked()
	if !ok {
		return
	}
	delay := s.lossDelay()
	thr := s.threshold()
	s.oldest()
	short := s.inShortFlight()
	rackRTT, rackWnd, rack := s.rack.window(s.env.RTT(), &s.rttMax, h.Get(largest), now)
	rack = rack && short
	resent, any := uint64(0), false
	for pn := max(h.Base(), s.cursor); pn < largest; pn++ {
		p := h.Get(pn)
		if p == nil || p.Acked || p.Lost {
			continue
		}
		// RACK (RFC 8985 §6.2) for a short flight: lost once a packet sent
		// more than the reordering window after it was acknowledged, or
		// when it has had that packet's RTT plus the window since.
		rackLost := rack && Outstanding(sb, p) && !p.Time.Add(rackRTT+rackWnd).After(now)
		if !p.InFlight && !rackLost {
			continue
		}
		if rackLost || (thr > 0 && largest-pn >= thr) || !p.Time.Add(delay).After(now) {
			if s.retransmitOnLoss || !p.HasSeq || rackLost {
				s.env.DeclareLost(now, p, s.retransmitOnLoss || rackLost)
				if rackLost {
					s.rack.declared(p.PN)
				}
				if p.HasSeq && short && !any {
					resent, any = p.Seq, true
				}
			} else {
				h.LeaveFlight(p)
			}
			continue
		}
		t := p.Time.Add(delay)
		if rack && Outstanding(sb, p) {
			t = minTime(t, p.Time.Add(rackRTT+rackWnd))
		}
		if s.lossTime.IsZero() || t.Before(s.lossTime) {
			s.lossTime = t
		}
	}
	if any {
		// A short flight's loss, under a burst like a tail expiry's.
		s.repeat(resent, s.burst.copies(), 1)
	}
	s.prune(now)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (s *senderTimers) prune(now time.Time) {
	r := s.env.RTT()
	s.burst.settle(s.env.History(), now, s.lossDelay()+r.SmoothedOrInitial())
	PruneHistory(s.env.History(), s.env.SendBuffer(), now.Add(-LostRetention(s.env.RTT())))
}

// oldest returns the oldest outstanding transmission, advancing cursor.
func (s *senderTimers) oldest() *SentPacket {
	h, sb := s.env.History(), s.env.SendBuffer()
	s.cursor = max(s.cursor, h.Base())
	for ; s.cursor < h.NextPN(); s.cursor++ {
		if p := h.Get(s.cursor); Outstanding(sb, p) {
			return p
		}
	}
	return nil
}

func (s *senderTimers) rtoDeadline() time.Time {
	p := s.oldest()
	if p == nil {
		return time.Time{}
	}
	return p.Time.Add(s.env.RTT().BackedOff(s.backoff + s.rtoExtraBackoff))
}

func (s *senderTimers) ptoDeadline() time.Time {
	if s.probes > 0 || s.lastSent.IsZero() || s.oldest() == nil {
		return time.Time{}
	}
	return s.lastSent.Add(s.env.RTT().PTO(s.maxAckDelay))
}

func (s *senderTimers) nextTimeout() time.Time {
	t := s.rtoDeadline()
	if pto := s.ptoDeadline(); !pto.IsZero() && (t.IsZero() || pto.Before(t)) {
		t = pto
	}
	if tail, _ := s.tailDeadline(); !tail.IsZero() && (t.IsZero() || tail.Before(t)) {
		t = tail
	}
	if !s.lossTime.IsZero() && (t.IsZero() || s.lossTime.Before(t)) {
		t = s.lossTime
	}
	return t
}

func (s *senderTimers) onTimeout(now time.Time) {
	if !s.lossTime.IsZero() && !now.Before(s.lossTime) {
		s.detectLosses(now)
		return
	}
	if rto := s.rtoDeadline(); !rto.IsZero() && !now.Before(rto) {
		s.onRTO(now)
		return
	}
	if tail, _ := s.tailDeadline(); !tail.IsZero() && !now.Before(tail) {
		s.onTail(now)
		return
	}
	if pto := s.ptoDeadline(); !pto.IsZero() && !now.Before(pto) {
		s.probes++
		if f := s.env.SendBuffer().NewestUnacked(); f != nil {
			s.env.QueueRetransmit(f.Seq)
		}
		s.env.SendProbe()
	}
}

// onRTO retransmits every outstanding transmission whose timer expired
// (per-packet timers, one deadline) and backs off.
func (s *senderTimers) onRTO(now time.Time) {
	h, sb := s.env.History(), s.env.SendBuffer()
	rto := s.env.RTT().BackedOff(s.backoff + s.rtoExtraBackoff)
	s.oldest()
	for pn := max(h.Base(), s.cursor); pn < h.NextPN(); pn++ {
		p := h.Get(pn)
		if p.Time.Add(rto).After(now) {
			break
		}
		if !Outstanding(sb, p) {
			continue
		}
		if p.InFlight {
			s.env.DeclareLost(now, p, true)
		} else {
			s.env.QueueRetransmit(p.Seq)
		}
	}
	s.backoff++ // probes stay spent until an acknowledgement
	s.env.RetransmissionTimeout(now)
	s.env.SendProbe()
	s.prune(now)
}
