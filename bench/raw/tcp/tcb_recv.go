package tcp

import (
	"slices"
	"time"
)

// receive is the seventh and eighth steps of RFC 9293 §3.10.7.4: deliver
// in-order text to the receive buffer, hold out-of-order text for
// reassembly, and process the FIN once everything before it has arrived.
func (c *tcb) receive(now time.Time, seq uint32, payload []byte, fin bool) {
	// Trim what was already received and what lies beyond the window.
	if seqLT(seq, c.rcvNxt) {
		skip := int(c.rcvNxt - seq)
		if skip > len(payload) {
			skip = len(payload)
		}
		payload = payload[skip:]
		seq += uint32(skip)
	}
	if room := int(int32(c.rcvAdv - seq)); len(payload) > room {
		payload = payload[:max(room, 0)]
		fin = false
	}
	if len(payload) == 0 && !fin {
		return
	}
	if seq != c.rcvNxt {
		c.stats.OutOfOrder++
		c.lastOOO = seq
		c.insertOOO(seq, payload, fin)
		c.ackNow = true // duplicate ACK for the sender's fast retransmit
		return
	}
	if !c.deliver(now, payload, fin) {
		return
	}
	if len(c.ooo) > 0 {
		c.drainOOO(now)
		c.ackNow = true // a hole was filled (RFC 5681 §4.2)
	}
	if len(payload) > 0 {
		c.ackPending++
	}
}

// deliver appends in-order text at RCV.NXT and processes a FIN after it.
// It reports false if the buffer took only part of the text (which cannot
// happen while the window never exceeds the free space; then the rest is
// not acknowledged, and the sender retransmits it).
func (c *tcb) deliver(now time.Time, payload []byte, fin bool) bool {
	if len(payload) > 0 {
		n := len(payload)
		if !c.readClosed {
			n = c.rb.write(payload)
		}
		c.rcvNxt += uint32(n)
		if n < len(payload) {
			c.ackNow = true
			return false
		}
	}
	if fin {
		c.rcvNxt++
		c.rb.close()
		c.ackNow = true
		c.ooo = nil
		switch c.state {
		case StateEstablished:
			c.state = StateCloseWait
		case StateFinWait1: // our FIN not yet acked (else we would be in FIN-WAIT-2)
			c.state = StateClosing
		case StateFinWait2:
			c.enterTimeWait(now)
		}
	}
	return true
}

// insertOOO stores a segment beyond RCV.NXT, keeping c.ooo sorted by
// sequence number; a segment already covered by a stored one is dropped.
func (c *tcb) insertOOO(seq uint32, payload []byte, fin bool) {
	end := seq + uint32(len(payload))
	i := 0
	for ; i < len(c.ooo); i++ {
		o := c.ooo[i]
		oEnd := o.seq + uint32(len(o.data))
		if seqLEQ(o.seq, seq) && seqGEQ(oEnd, end) && (o.fin || !fin) {
			return // duplicate
		}
		if seqGT(o.seq, seq) {
			break
		}
	}
	c.ooo = slices.Insert(c.ooo, i, oooSegment{seq: seq, data: slices.Clone(payload), fin: fin})
}

// drainOOO delivers stored segments that have become in order.
func (c *tcb) drainOOO(now time.Time) {
	n := 0
	for ; n < len(c.ooo); n++ {
		o := c.ooo[n]
		if seqGT(o.seq, c.rcvNxt) {
			break
		}
		skip := int(c.rcvNxt - o.seq)
		if skip > len(o.data) {
			continue // entirely old
		}
		if !c.deliver(now, o.data[skip:], o.fin) {
			break // keep this segment: its rest is beyond what the buffer took
		}
		if o.fin {
			n = len(c.ooo)
			break
		}
	}
	if c.ooo != nil {
		c.ooo = c.ooo[:copy(c.ooo, c.ooo[n:])]
	}
}
