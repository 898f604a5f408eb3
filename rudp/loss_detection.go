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

// TailGranularity is the least margin over SRTT the tail timer allows
// (the RTT's jitter when RTTVAR has decayed to nothing).
const TailGranularity = 2 * time.Millisecond

// maxTailFires bounds tail-timer expiries without an acknowledgement;
// after them only the backed-off RTO acts (a dead path). A loss burst that
// takes a message, the next ones and their retransmissions needs several.
const maxTailFires = 6

// tailDelay is how long after its transmission a tail packet (one that
// fewer than the packet threshold of later packets follow, so fast
// retransmit cannot find its loss) is declared lost: SRTT +
// max(4·RTTVAR, TailGranularity) or, in a short flight, at most the
// largest RTT of the last second + TailGranularity (under jitter RTTVAR
// swings with every sample and 4·RTTVAR overshoots the largest RTT: ±5 ms
// each way, 36-44 ms against 30); plus the peer's ack delay unless the
// packet was sparse (sent more than the ack delay after the previous
// transmission) or one of three or more copies sent back to back: the
// receiver acknowledges those at once.
func (s *senderTimers) tailDelay(p *SentPacket, short bool) time.Duration {
	r := s.env.RTT()
	d := r.SmoothedOrInitial() + max(4*r.RTTVar(), TailGranularity) + s.tailExtra
	h := s.env.History()
	same := func(q *SentPacket) bool {
		return q != nil && p.HasSeq && q.HasSeq && q.Seq == p.Seq && q.Time.Equal(p.Time)
	}
	first, copies := p.PN, 1
	for ; copies <= maxTailCopies && first > 0 && same(h.Get(first-1)); copies++ {
		// A later copy of a repeated probe: the receiver acknowledges
		// whichever copy arrives first as the first copy would be.
		first--
	}
	for next := h.Get(p.PN + 1); copies <= maxTailCopies && same(next); copies++ {
		next = h.Get(next.PN + 1)
	}
	// A sparse packet (sent more than the ack delay after the one before)
	// is acknowledged at once, and so are copies sent back to back once
	// two of them arrive (only when all but one died might the ack wait);
	// else the ack may wait for the peer's delay.
	prompt := copies >= 3
	if g := s.gaps[first%uint64(len(s.gaps))]; !prompt && g.pn == first {
		prompt = g.gap > s.maxAckDelay
	} else if prev := h.Get(first - 1); !prompt {
		prompt = first == 0 || prev == nil || p.Time.Sub(prev.Time) > s.maxAckDelay
	}
	if short && prompt {
		// Such an acknowledgement in a short flight (a sparse sender, no
		// queue of its own) is due within the largest recent RTT, a
		// tighter bound than 4·RTTVAR when the RTT jitters (RTTVAR swings
		// with every sample). Not for back-to-back packets: a flight that
		// starts builds a queue, and its RTT outgrows every sample.
		if m, ok := s.rttMax.max(p.Time); ok {
			d = min(d, m+TailGranularity+s.tailExtra)
		}
	}
	if !prompt {
		d += s.maxAckDelay
	}
	return d
}

// tailDeadline is the earliest tail-timer deadline over the tail packets:
// the live reliable data transmissions (not acknowledged, not declared
// lost, their frame not acknowledged) that no acknowledgement can soon
// reveal as lost by the packet threshold. They are the live ones among the
// last packetThreshold reliable data transmissions (repair packets and
// pure acks in between do not count) and, when few transmissions are live
// (at most maxShortFlight), every live one: a sparse sender (messages at
// 50 Hz) whose packets, retransmissions included, die in one loss burst
// gets no acknowledgement that could reveal them, so each keeps its own
// timer instead of leaving the window of the last three and waiting for
// the RTO (for NACK also those an acknowledgement passed, which left the
// flight presumed lost: the NACK that should follow may be lost in the
// same burst). Those older ones expire no sooner than a tail delay after
// the last acknowledgement, so a small bulk flight whose RTT grows with
// the queue does not take its own queueing for loss; a long flight is
// left to fast retransmit. The
// deadline is zero when disabled, before an RTT sample, after maxTailFires
// expiries without an acknowledgement, or during RTO backoff.
func (s *senderTimers) tailDeadline() (time.Time, uint64) {
	if !s.tailTimer || s.tailFires >= maxTailFires || s.backoff > 0 || !s.env.RTT().HasSample() {
		return time.Time{}, 0
	}
	h := s.env.History()
	thr := s.packetThreshold
	if thr == 0 {
		thr = PacketThreshold // NACK: the packets no later arrival reveals yet
	}
	from := max(h.Base(), s.cursor)
	live := s.liveData
	short := s.shortFlight(from, live)
	var tail *SentPacket
	var deadline time.Time
	seen := uint64(0)
	for pn, scanned := h.NextPN(), 0; pn > from && scanned < maxTailScan && (short || seen < thr); scanned++ {
		pn--
		p := h.Get(pn)
		if p == nil || !p.HasSeq || !p.AckEliciting {
			continue
		}
		seen++
		if !live(p) {
			continue
		}
		t := p.Time.Add(s.tailDelay(p, short))
		if seen > thr && p.InFlight {
			// Beyond the last packetThreshold: only once acknowledgements
			// stopped for a tail delay (a loss burst), not while a flow
			// whose RTT grows with its queue keeps being acknowledged.
			// (A NACK sender's packet presumed lost, out of flight, was
			// passed by later acknowledgements already.)
			if a := s.lastAck.Add(s.tailDelay(p, short)); a.After(t) {
				t = a
			}
		}
		if tail == nil || !t.After(deadline) {
			tail, deadline = p, t
		}
	}
	if tail == nil {
		return time.Time{}, 0
	}
	return deadline, tail.PN
}

// shortFlight reports whether at most maxShortFlight of the reliable
// data transmissions from pn from on are live (a sparse sender's flight).
func (s *senderTimers) shortFlight(from uint64, live func(p *SentPacket) bool) bool {
	h := s.env.History()
	n := 0
	for pn, scanned := h.NextPN(), 0; pn > from; scanned++ {
		pn--
		if live(h.Get(pn)) {
			n++
		}
		if n > maxShortFlight || scanned >= maxTailScan {
			return false
		}
	}
	return true
}

// liveData reports whether p is a reliable data transmission that is
// neither acknowledged nor declared lost, of a frame not acknowledged.
func (s *senderTimers) liveData(p *SentPacket) bool {
	if p == nil || !p.HasSeq || !p.AckEliciting || p.Acked || p.Lost {
		return false
	}
	f := s.env.SendBuffer().Get(p.Seq)
	return f != nil && !f.Acked // else the other copy of a repeated probe was acknowledged
}

// inShortFlight reports whether the sender's live transmissions form a
// short flight.
func (s *senderTimers) inShortFlight() bool {
	return s.shortFlight(max(s.env.History().Base(), s.cursor), s.liveData)
}

// repeat makes the retransmission of seq, just queued, go out copies times
// back to back (it is queued again as each copy leaves); it keeps the
// oldest frame when several are resent at once. A frame larger than
// maxCopiedPayload goes out plain times instead: copies pay off for small
// messages, while a full-size frame's copies would cost a bulk flight
// (at its start or end, when it is short) a window's worth of bytes.
func (s *senderTimers) repeat(seq uint64, copies, plain int) {
	f := s.env.SendBuffer().Get(seq)
	if f == nil || !f.Queued {
		return
	}
	if len(f.Payload) > maxCopiedPayload {
		copies = plain
	}
	if d := s.env.SendBuffer().Get(s.dupSeq); d == nil || d.Acked || !d.Queued {
		s.dupLeft = 0 // acknowledged before its copies left: none pending
	}
	if copies < 2 || (s.dupLeft > 0 && s.dupSeq < seq) {
		return
	}
	s.dupSeq, s.dupLeft = seq, copies-1
}

// maxCopiedPayload is the largest frame payload a short flight's resend
// sends more than twice.
const maxCopiedPayload = 512

// maxShortFlight is the most live transmissions that all get tail
// timers.
const maxShortFlight = 16

// maxTailScan bounds the transmissions tailDeadline looks at.
const maxTailScan = 32

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

// onTail declares lost (and retransmits) every tail packet whose tail
// timer expired: a lone lost message is resent about one RTT after it was
// sent instead of when the next message's acknowledgement reveals the hole.
//
// The oldest frame resent goes out at least twice, back to back (RFC 9002
// §6.2.4 lets a probe timeout send two datagrams): a loss burst that took
// the original and the packets after it is likely still on, and under
// per-packet burst loss each packet sent is another chance to get
// through. In a short flight it goes out as often as the measured loss
// clustering asks (burstEstimator.copies: 2 under random loss, up to
// maxTailCopies under bursts); the copies cost small packets, and only
// when a message was lost.
func (s *senderTimers) onTail(now time.Time) {
	h, sb := s.env.History(), s.env.SendBuffer()
	copies := 2
	if s.inShortFlight() {
		copies = s.burst.copies()
	}
	oldest, any := uint64(0), false
	for {
		t, pn := s.tailDeadline()
		if t.IsZero() || now.Before(t) {
			break
		}
		p := h.Get(pn)
		s.env.DeclareLost(now, p, true) // leaves the flight
		if f := sb.Get(p.Seq); f != nil && f.Queued && (!any || p.Seq < oldest) {
			oldest, any = p.Seq, true
		}
	}
	if any {
		s.repeat(oldest, copies, 2)
	}
	s.tailFires++
	s.prune(now)
}
