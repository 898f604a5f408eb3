package tcp

import (
	"fmt"
	"time"
)

// handleSegment processes one arriving segment (RFC 9293 §3.10.7). h has
// been decoded and its checksum verified; payload is valid only during the
// call.
func (c *tcb) handleSegment(now time.Time, h *Header, payload []byte) {
	c.stats.SegmentsReceived++
	switch c.state {
	case StateClosed:
		return
	case StateListen:
		c.handleListen(now, h)
		return
	case StateSynSent:
		c.handleSynSent(now, h, payload)
		return
	}

	// First: sequence number check.
	segLen := h.SegmentLen(len(payload))
	if !c.acceptable(h.Seq, segLen) {
		if h.Flags&FlagRST == 0 {
			c.sendACK()
			if c.state == StateTimeWait && h.Flags&FlagFIN != 0 {
				c.enterTimeWait(now) // a retransmitted FIN: our last ACK was lost
			}
		}
		return
	}
	c.noteReceived(now)

	// Second: RST (RFC 5961 §3.2: exact match resets, otherwise a challenge ACK).
	if h.Flags&FlagRST != 0 {
		if h.Seq != c.rcvNxt {
			c.sendACK()
			return
		}
		switch c.state {
		case StateSynReceived, StateEstablished, StateFinWait1, StateFinWait2, StateCloseWait:
			c.enterClosed(ErrConnectionReset)
		default: // CLOSING, LAST-ACK, TIME-WAIT
			c.enterClosed(nil)
		}
		return
	}

	// Fourth: SYN in a synchronized state: challenge ACK (RFC 5961 §4).
	if h.Flags&FlagSYN != 0 {
		c.sendACK()
		return
	}

	// Fifth: ACK.
	if h.Flags&FlagACK == 0 {
		return
	}
	if c.state == StateSynReceived {
		if !seqLT(c.sndUna, h.Ack) || !seqLEQ(h.Ack, c.sndMax) {
			c.sendControl(h.Ack, FlagRST)
			return
		}
		c.sndUna = c.iss + 1
		c.rtoAt, c.retries = time.Time{}, 0
		if !c.establish(now) {
			return
		}
		c.sndWnd = uint32(h.Window) << c.sndShift
		c.sndWl1, c.sndWl2 = h.Seq, h.Ack
	}
	if !c.processACK(now, h, len(payload)) {
		return
	}
	if c.state == StateClosed {
		return
	}

	// Seventh: segment text; eighth: FIN.
	if c.state == StateTimeWait {
		if h.Flags&FlagFIN != 0 { // retransmitted FIN: ACK it, restart 2·MSL
			c.sendACK()
			c.enterTimeWait(now)
		}
		return
	}
	if !c.state.canReceiveData() {
		return // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent its FIN
	}
	c.receive(now, h.Seq, payload, h.Flags&FlagFIN != 0)
}

// acceptable is RFC 9293 §3.10.7.4's four-case acceptability test.
func (c *tcb) acceptable(seq, segLen uint32) bool {
	wnd := c.rcvAdv - c.rcvNxt
	if int32(wnd) < 0 {
		wnd = 0
	}
	switch {
	case segLen == 0 && wnd == 0:
		return seq == c.rcvNxt
	case segLen == 0:
		return seqInWindow(seq, c.rcvNxt, wnd)
	case wnd == 0:
		return false
	}
	return seqInWindow(seq, c.rcvNxt, wnd) || seqInWindow(seq+segLen-1, c.rcvNxt, wnd)
}

// handleListen processes a segment for a TCB in LISTEN (RFC 9293 §3.10.7.2).
func (c *tcb) handleListen(now time.Time, h *Header) {
	switch {
	case h.Flags&FlagRST != 0:
		return
	case h.Flags&FlagACK != 0:
		c.sendControl(h.Ack, FlagRST)
		c.enterClosed(ErrConnectionRefused)
		return
	case h.Flags&FlagSYN == 0:
		return
	}
	c.irs = h.Seq
	c.rcvNxt = h.Seq + 1
	c.sackOffered = !c.cfg.DisableSACK && h.Options.SACKPermitted
	c.takeSYNOptions(h, h.Options.HasWindowScale)
	c.sndWnd = uint32(h.Window) // never scaled in a SYN
	c.sndWl1, c.sndWl2 = h.Seq, c.iss
	c.state = StateSynReceived
	c.sndNxt = c.iss + 1
	c.sndMax = c.sndNxt
	c.noteReceived(now)
	c.sendSYN(now, true)
}

// takeSYNOptions applies the peer's SYN options: MSS, window scaling and
// SACK-permitted (each used only when both sides offered it). Timestamps
// are not negotiated (we never offer them), so they are ignored.
func (c *tcb) takeSYNOptions(h *Header, offerWS bool) {
	c.sackOK = c.sackOffered && h.Options.SACKPermitted
	peerMSS := int(h.Options.MSS)
	if peerMSS == 0 {
		peerMSS = DefaultMSS
	}
	c.mss = max(min(peerMSS, c.cfg.MSS), 64)
	c.wsOffered = offerWS
	if offerWS && h.Options.HasWindowScale {
		c.sndShift = h.Options.WindowScale
	} else {
		c.sndShift, c.rcvShift = 0, 0
	}
}

// handleSynSent processes a segment in SYN-SENT (RFC 9293 §3.10.7.3).
func (c *tcb) handleSynSent(now time.Time, h *Header, payload []byte) {
	ackOK := false
	if h.Flags&FlagACK != 0 {
		if !seqGT(h.Ack, c.iss) || seqGT(h.Ack, c.sndMax) {
			if h.Flags&FlagRST == 0 {
				c.sendControl(h.Ack, FlagRST)
			}
			return
		}
		ackOK = true
	}
	if h.Flags&FlagRST != 0 {
		if ackOK {
			c.enterClosed(ErrConnectionRefused)
		}
		return
	}
	if h.Flags&FlagSYN == 0 {
		return
	}
	c.irs = h.Seq
	c.rcvNxt = h.Seq + 1
	c.takeSYNOptions(h, true)
	c.noteReceived(now)
	if !ackOK { // simultaneous open: SYN-RECEIVED, send SYN-ACK
		c.state = StateSynReceived
		c.sndWnd = uint32(h.Window)
		c.sndWl1, c.sndWl2 = h.Seq, c.iss
		c.rtoAt = time.Time{}
		c.sendSYN(now, true)
		return
	}
	c.sndUna = h.Ack
	c.sndWnd = uint32(h.Window) // unscaled in a SYN
	c.sndWl1, c.sndWl2 = h.Seq, h.Ack
	if c.retries == 0 && !c.rtoAt.IsZero() { // Karn: SYN not retransmitted
		c.rtt.update(now.Sub(c.rtoAt.Add(-c.rto)))
		c.rto = c.rtt.rto(c.cfg.InitialRTO, c.cfg.MinRTO, c.cfg.MaxRTO)
	}
	c.rtoAt, c.retries = time.Time{}, 0
	if !c.establish(now) {
		return
	}
	c.rcvAdv = c.rcvNxt // the window field of our SYN was not for this space
	_ = payload         // data on a SYN-ACK is dropped; the peer retransmits it
	c.sendACK()
}

// establish enters ESTABLISHED and builds the congestion controller now
// that the segment size is known. It reports false if the controller could
// not be built (the connection is then aborted).
func (c *tcb) establish(now time.Time) bool {
	cc, err := c.cfg.newController(c.mss, &c.rtt)
	if err != nil {
		c.abort(fmt.Errorf("%w: congestion controller: %w", ErrAborted, err))
		return false
	}
	c.cc = cc
	c.state = StateEstablished
	c.recover = c.iss
	c.noteReceived(now)
	return true
}
