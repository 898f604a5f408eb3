package tcp

import "time"

// output sends what the windows allow: new data and the FIN, then an ACK
// if one is owed and no segment carried it.
func (c *tcb) output(now time.Time) {
	if !c.state.synchronized() {
		return
	}
	if c.state.canSendData() {
		c.sendNewData(now)
	}
	// RFC 5681 §4.2 / RFC 1122: ACK at least every second full segment,
	// and within DelayedACK of the first unacknowledged one.
	if !c.ackNow && c.ackPending > 0 {
		if c.cfg.DelayedACK < 0 || c.ackPending >= 2 {
			c.ackNow = true
		} else if c.delAckAt.IsZero() {
			c.delAckAt = now.Add(c.cfg.DelayedACK)
		}
	}
	if !c.ackNow && c.windowUpdateDue() {
		c.ackNow = true
	}
	if c.ackNow {
		c.sendACK()
	}
}

// windowUpdateDue reports whether the window the application opened by
// reading is worth advertising: at least min(RecvBuffer/2, 2·MSS) more
// than the edge advertised (RFC 9293 §3.8.6.2.2 receiver SWS avoidance).
func (c *tcb) windowUpdateDue() bool {
	if c.state != StateEstablished && c.state != StateFinWait1 && c.state != StateFinWait2 {
		return false
	}
	free := c.cfg.RecvBuffer - c.rb.Len()
	adv := int(int32(c.rcvAdv - c.rcvNxt))
	return free-adv >= min(c.cfg.RecvBuffer/2, 2*c.cfg.MSS)
}

// sendNewData sends unsent data (and the FIN after it) while the peer's
// window and the congestion window allow, and arms the persist timer when
// the peer's window is closed.
func (c *tcb) sendNewData(now time.Time) {
	for {
		if c.sackOK && c.lostCount > 0 {
			if c.cc != nil && !c.cc.CanSend(c.flight()) {
				return
			}
			if c.retransmitLost(now) {
				continue
			}
		}
		off := int(c.sndNxt - c.sndUna)
		buffered := c.sb.Len()
		unsent := buffered - off
		if unsent < 0 {
			return // FIN already in flight
		}
		if unsent == 0 {
			if c.finQueued && !(c.finSent && seqGT(c.sndNxt, c.finSeq)) {
				c.transmit(now, c.sndNxt, 0, true, -1)
				c.sndNxt++
			}
			return
		}
		room := int(int32(c.sndUna + c.sndWnd - c.sndNxt))
		n := min(unsent, c.mss, room)
		if n <= 0 {
			if c.sndWnd == 0 && c.sndMax == c.sndUna && c.persistAt.IsZero() {
				c.persistAt = now.Add(c.rto)
			}
			return
		}
		// Sender SWS avoidance (RFC 9293 §3.8.6.2.1): no small segment
		// the window cut short while data is in flight.
		if n < c.mss && n < unsent && c.sndNxt != c.sndUna {
			return
		}
		if c.cc != nil {
			if !c.cc.CanSend(c.flight()) {
				return
			}
			if t := c.cc.TimeUntilSend(c.flight()); !t.IsZero() && t.After(now) {
				if c.delAckAt.IsZero() || t.Before(c.delAckAt) {
					c.delAckAt = t // wake up for the pacer (an early ACK is harmless)
				}
				return
			}
		}
		fin := c.finQueued && n == unsent
		c.transmit(now, c.sndNxt, n, fin, -1)
		c.sndNxt += uint32(n) + boolSeq(fin)
	}
}

// transmit sends n bytes from the send buffer starting at seq (plus a FIN),
// records the transmission for RTT and congestion control, and arms the
// retransmission timer. It does not move SND.NXT; it moves SND.MAX.
// idx, when not negative, is the index of the lost record being resent.
func (c *tcb) transmit(now time.Time, seq uint32, n int, fin bool, idx int) {
	payload := c.scratch[:c.sb.peekAt(int(seq-c.sndUna), c.scratch[:n])]
	h := &c.txHdr
	*h = Header{Seq: seq, Ack: c.rcvNxt, Flags: FlagACK}
	if fin {
		h.Flags |= FlagFIN
		c.finSent, c.finSeq = true, seq+uint32(len(payload))
	}
	if len(payload) > 0 && int(seq-c.sndUna)+len(payload) == c.sb.Len() {
		h.Flags |= FlagPSH
	}
	h.Window = c.windowField()
	sackFit := c.fillSACK(&h.Options, c.mss-len(payload))
	end := seq + uint32(len(payload)) + boolSeq(fin)
	retrans := seqLT(seq, c.sndMax)
	c.pn++
	prior := c.flight()
	rec := sentRecord{seq: seq, end: end, pn: c.pn, at: now, retrans: retrans}
	switch {
	case idx >= 0 && idx < len(c.sent): // a lost record, retransmitted in place
		if c.sent[idx].lost {
			c.lostCount--
		}
		if c.sent[idx].inPipe() {
			c.pipe -= c.sent[idx].size()
		}
		c.sent[idx] = rec
	case retrans && len(c.sent) > 0 && c.sent[0].seq == seq:
		if c.sent[0].lost {
			c.lostCount--
		}
		if c.sent[0].inPipe() {
			c.pipe -= c.sent[0].size()
		}
		c.sent[0] = rec // a retransmission of the first range keeps its place
	default:
		c.sent = append(c.sent, rec)
	}
	c.pipe += rec.size()
	if c.cc != nil {
		c.cc.OnPacketSent(now, c.pn, rec.size(), prior)
	}
	c.stats.BytesSent += uint64(len(payload))
	if retrans {
		c.stats.BytesRetransmitted += uint64(len(payload))
	}
	c.sndMax = seqMax(c.sndMax, end)
	if c.rtoAt.IsZero() {
		c.rtoAt = now.Add(c.rto)
	}
	c.ackNow, c.ackPending, c.delAckAt = false, 0, time.Time{}
	c.send(h, payload)
	if !sackFit { // a full segment had no room for our SACK blocks
		c.sendACK()
	}
}

// sendZeroWindowProbe sends one byte beyond a closed window (RFC 9293
// §3.8.6.1); the retransmission timer then repeats it with back-off.
func (c *tcb) sendZeroWindowProbe(now time.Time) {
	if !c.state.canSendData() || c.sndWnd != 0 || c.sndMax != c.sndUna || c.sb.Len() <= int(c.sndNxt-c.sndUna) {
		return
	}
	c.transmit(now, c.sndNxt, 1, false, -1)
	c.sndNxt++
}
