package rudp

import "time"

// Tail timers: a short flight's packets (sparse messages, the last packets
// of a transfer) have no later packets whose acknowledgements would reveal
// their loss, so each gets a timer of its own, and its resend goes out as
// back-to-back copies sized to the measured loss bursts. senderTimers
// (loss_detection.go) owns the state; this file holds the tail rules.

// TailGranularity is the least margin over SRTT the tail timer allows
// (the RTT's jitter when RTTVAR has decayed to nothing): RFC 9002's
// kGranularity, 1 ms. (2 ms cost sparse messages on a clean 20 ms path a
// millisecond of p99: real-time bench P2, skiff-rto 35.1–35.2 -> 34.3–34.5.)
const TailGranularity = 1 * time.Millisecond

// SparseTailGranularity is the least margin over SRTT for a sparse
// packet the receiver acknowledges at once (a message of a 50 Hz flow):
// its acknowledgement is due one RTT after it was sent, and what a
// resend that comes too early costs is one small packet, while every
// millisecond of margin is a millisecond on each lost message. In real
// time on a loaded 2-core machine the RTT of such a flow wanders by
// RTTVAR ≈ 0.4-0.6 ms and 1-8% of samples exceed SRTT + 1 ms.
const SparseTailGranularity = 500 * time.Microsecond

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
		// queue of its own) is due within SRTT + 2·RTTVAR and within the
		// largest recent RTT (a tighter bound when the RTT jitters: RTTVAR
		// swings with every sample), each plus SparseTailGranularity. Not
		// for back-to-back packets: a flight that starts builds a queue,
		// and its RTT outgrows every sample.
		tight := r.SmoothedOrInitial() + max(4*r.RTTVar(), SparseTailGranularity)
		if m, ok := s.rttMax.max(p.Time); ok {
			tight = min(tight, m+SparseTailGranularity)
		}
		d = min(d, tight+s.tailExtra)
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
