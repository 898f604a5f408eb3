package tcp

import "time"

// processACK is the fifth step of RFC 9293 §3.10.7.4 for synchronized
// states: advance SND.UNA, feed RTT and congestion control, detect
// duplicate ACKs (RFC 5681 §3.2) and run NewReno recovery (RFC 6582),
// update the send window, and move the closing states on when our FIN is
// acknowledged. It reports false if the segment must be dropped.
func (c *tcb) processACK(now time.Time, h *Header, payloadLen int) bool {
	ack := h.Ack
	if seqGT(ack, c.sndMax) { // acks something not yet sent
		c.sendACK()
		return false
	}
	c.retries = 0 // the peer is alive
	win := uint32(h.Window) << c.sndShift
	if c.sackOK {
		c.processACKWithSACK(now, h)
	} else {
		switch {
		case seqGT(ack, c.sndUna):
			c.onNewAck(now, ack)
		case ack == c.sndUna && payloadLen == 0 && h.Flags&(FlagSYN|FlagFIN) == 0 &&
			win == c.sndWnd && c.sndMax != c.sndUna:
			c.onDupAck(now)
		}
	}
	// Window update (RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 rule).
	if seqLT(c.sndWl1, h.Seq) || (c.sndWl1 == h.Seq && seqLEQ(c.sndWl2, ack)) {
		c.sndWnd = win
		c.sndWl1, c.sndWl2 = h.Seq, ack
		if win > 0 {
			c.persistAt = time.Time{}
		}
	}

	finAcked := c.finSent && seqGT(c.sndUna, c.finSeq)
	switch c.state {
	case StateFinWait1:
		if finAcked {
			c.state = StateFinWait2
			if c.readClosed {
				c.closeAt = now.Add(c.cfg.FinWait2Timeout)
			}
		}
	case StateClosing:
		if finAcked {
			c.enterTimeWait(now)
		}
	case StateLastAck:
		if finAcked {
			c.enterClosed(nil)
		}
	}
	return true
}

// onNewAck handles an ACK that advances SND.UNA to ack.
func (c *tcb) onNewAck(now time.Time, ack uint32) {
	priorInFlight := c.flight()
	// Karn's algorithm: sample from the newest fully acked range that was
	// never retransmitted.
	var sampleAt time.Time
	n := 0
	for ; n < len(c.sent) && seqLEQ(c.sent[n].end, ack); n++ {
		r := &c.sent[n]
		if !r.retrans {
			sampleAt = r.at
		}
		if r.inPipe() {
			c.pipe -= r.size()
		}
		if r.lost {
			c.lostCount--
		}
		c.deliveredPN = max(c.deliveredPN, r.pn)
		if c.cc != nil && !r.sacked { // a SACKed record was reported already
			c.cc.OnPacketAcked(now, r.pn, r.size(), priorInFlight)
		}
	}
	c.sent = c.sent[:copy(c.sent, c.sent[n:])]
	if len(c.sent) > 0 && seqLT(c.sent[0].seq, ack) {
		if c.sent[0].inPipe() {
			c.pipe -= int(ack - c.sent[0].seq)
		}
		c.sent[0].seq = ack // partially acked range
	}
	if !sampleAt.IsZero() {
		c.rtt.update(now.Sub(sampleAt))
	}
	c.rto = c.rtt.rto(c.cfg.InitialRTO, c.cfg.MinRTO, c.cfg.MaxRTO)

	acked := int(ack - c.sndUna)
	if c.finSent && seqGT(ack, c.finSeq) {
		acked-- // the FIN's sequence number carries no data
	}
	c.sb.discard(acked)
	c.sndUna = ack
	if seqLT(c.sndNxt, ack) {
		c.sndNxt = ack // acks data sent before a go-back-N rewind
	}
	if c.sndUna == c.sndMax {
		c.rtoAt = time.Time{}
	} else {
		c.rtoAt = now.Add(c.rto) // RFC 6298 §5.3
	}

	if c.inRecovery {
		if seqGEQ(ack, c.recover) { // full ACK: recovery over (RFC 6582 §3.2 step 3)
			c.inRecovery = false
			c.dupAcks = 0
		} else if !c.sackOK { // partial ACK: retransmit the next hole at once
			c.retransmitFirst(now, true)
		}
		return
	}
	c.dupAcks = 0
}

// onDupAck counts a duplicate ACK; the third starts fast retransmit and
// fast recovery unless it belongs to data sent before the last recovery
// began (RFC 6582 §3.2 step 2's "recover" check).
func (c *tcb) onDupAck(now time.Time) {
	c.stats.DupAcksReceived++
	c.dupAcks++
	if c.inRecovery {
		if c.cc != nil {
			c.cc.OnDuplicateAck(now)
		}
		return
	}
	if c.dupAcks != 3 || seqLT(c.sndUna, c.recover) {
		return // not yet three, or still within the previous loss event's window
	}
	c.inRecovery = true
	c.recover = c.sndMax
	c.stats.FastRetransmits++
	c.retransmitFirst(now, true)
}

// flight returns the bytes in flight for congestion control: RFC 6675's
// pipe with SACK, SND.NXT − SND.UNA without.
func (c *tcb) flight() int {
	if c.sackOK {
		return c.pipe
	}
	return int(c.sndNxt - c.sndUna)
}

// onRetransmissionTimeout handles the RTO (RFC 6298 §5.4–5.7): back off,
// tell the controller, and go back to SND.UNA (the whole flight is resent
// as the window reopens).
func (c *tcb) onRetransmissionTimeout(now time.Time) {
	c.rtoAt = time.Time{}
	c.retries++
	c.stats.Timeouts++
	c.rto = min(2*c.rto, c.cfg.MaxRTO)
	switch c.state {
	case StateSynSent, StateSynReceived:
		if c.retries > c.cfg.SYNRetries {
			c.enterClosed(ErrTimeout)
			return
		}
		c.sendSYN(now, c.state == StateSynReceived)
		return
	}
	if c.sndMax == c.sndUna {
		return
	}
	if c.retries > c.cfg.MaxRetries {
		c.abort(ErrTimeout)
		return
	}
	if c.cc != nil {
		c.cc.OnRetransmissionTimeout(now)
	}
	c.inRecovery, c.dupAcks = false, 0
	c.recover = c.sndMax
	if c.sackOK && len(c.sent) > 0 {
		c.rtoWithSACK(now)
		return
	}
	c.sndNxt = c.sndUna
	c.sent = c.sent[:0]
	c.retransmitFirst(now, false)
}

// retransmitFirst resends the segment at SND.UNA (fast retransmit, a
// partial ACK, or the RTO). lossEvent reports the loss to the controller
// first (it reduces at most once per window).
func (c *tcb) retransmitFirst(now time.Time, lossEvent bool) {
	if c.sndMax == c.sndUna {
		return
	}
	n := min(c.mss, c.sb.Len(), int(c.sndMax-c.sndUna))
	fin := c.finSent && c.sndUna+uint32(n) == c.finSeq
	if lossEvent && c.cc != nil && len(c.sent) > 0 {
		r := c.sent[0]
		c.cc.OnCongestionEvent(now, r.pn, int(r.end-r.seq), c.flight())
	}
	c.transmit(now, c.sndUna, n, fin, -1)
	if seqLT(c.sndNxt, c.sndUna+uint32(n)+boolSeq(fin)) {
		c.sndNxt = c.sndUna + uint32(n) + boolSeq(fin)
	}
}

func boolSeq(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
