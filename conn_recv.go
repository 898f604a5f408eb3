package skiff

import (
	"errors"
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// maxPNJump bounds how far a packet number may lie beyond the largest
// received (more than any burst of losses a session survives).
const maxPNJump = 1 << 16

// maxAckDelay is how long the receiver may hold an acknowledgement.
const maxAckDelay = 5 * time.Millisecond

func (c *conn) unwrapRecvPN(pn uint32) uint64 {
	ref, _, _, _ := c.rp.Largest()
	return rudp.UnwrapPN(ref, pn)
}

// handle processes one datagram from the transport.
func (c *conn) handle(in inbound) {
	b := in.buf[:in.n]
	defer c.rxPool.put(in.buf)
	p := &c.pkt
	if _, err := p.Unmarshal(b); err != nil {
		if errors.Is(err, rudp.ErrChecksum) {
			c.st.BadChecksum++
		} else {
			c.st.BadPackets++
		}
		return
	}
	h := &p.Header
	if h.ConnID != c.id {
		c.st.BadPackets++
		return
	}
	switch h.Type {
	case rudp.TypeHello:
		c.onHello(in, p)
		return
	case rudp.TypeRetry:
		c.onRetry(p)
		return
	case rudp.TypeAccept:
		c.onAccept(p)
		return
	}
	if c.state == stateHandshake {
		c.st.BadPackets++
		return
	}
	pn := c.unwrapRecvPN(h.PacketNumber)
	largestBefore, _, _, hadAny := c.rp.Largest()
	if pn > largestBefore+maxPNJump {
		// Far beyond anything the peer can have sent since: forged or
		// corrupt. Dropping it also keeps such packets from moving the
		// session to another address.
		c.st.OutOfWindow++
		return
	}
	status := c.rp.Add(pn, c.now, h.Timestamp)
	if status != rudp.PacketNew {
		c.st.DuplicatesReceived++
		if h.Type == rudp.TypeData || h.Type == rudp.TypePing {
			c.ackNow = true // our ack may have been lost
		}
		return
	}
	c.st.PacketsReceived++
	c.st.BytesReceived += uint64(len(b))
	c.lastRecv = c.now
	newest := !hadAny || pn > largestBefore
	if newest && in.from != c.remote && in.from.IsValid() {
		// NAT rebinding: the connection ID proved the session; follow the
		// newest packet's source address.
		c.remote = in.from
		c.st.AddressChanges++
		c.s.mu.Lock()
		c.s.remote = in.from
		c.s.mu.Unlock()
	}
	c.sampleRTT(h)
	if h.Flags&rudp.FlagAck != 0 {
		c.onAck(&p.Ack)
	}
	switch h.Type {
	case rudp.TypeData:
		var tag *rudp.FECTag
		if h.Flags&rudp.FlagFEC != 0 {
			tag = &p.FEC
		}
		c.noteAckEliciting(!newest || (hadAny && pn > largestBefore+1))
		c.onData(pn, &p.Data, tag, p.Body)
	case rudp.TypePing:
		c.ackNow = true
	case rudp.TypeRepair:
		c.noteAckEliciting(false)
		c.strat.OnRepairReceived(c.now, pn, p.Repair)
	case rudp.TypeReset:
		c.finish(ErrReset)
	}
}

// noteAckEliciting schedules an acknowledgement: at once for every second
// packet, a reordered one, or one that arrived more than maxAckDelay after
// the previous ack-eliciting packet (sparse traffic such as 50 Hz
// messages: no second packet would share the ack, and an early ack lets
// the sender's tail timer find a lost message within about one RTT), else
// after maxAckDelay.
func (c *conn) noteAckEliciting(reordered bool) {
	c.ackEliciting++
	sparse := c.lastAckEliciting.IsZero() || c.now.Sub(c.lastAckEliciting) > maxAckDelay
	c.lastAckEliciting = c.now
	if reordered || sparse || c.ackEliciting >= 2 {
		c.ackNow = true
	} else if c.ackDeadline.IsZero() {
		c.ackDeadline = c.now.Add(maxAckDelay)
	}
}

// sampleRTT takes an RTT sample from the header's timestamp echo.
func (c *conn) sampleRTT(h *rudp.Header) {
	if h.Echo == 0 || h.Echo == c.lastEcho || int32(h.Echo-c.lastEcho) < 0 && c.lastEcho != 0 {
		return
	}
	c.lastEcho = h.Echo
	rtt := time.Duration(c.timestamp()-h.Echo) * time.Microsecond
	delay := time.Duration(h.EchoDelay) * rudp.EchoDelayUnit * time.Microsecond
	if h.EchoDelay == 0xFFFF || rtt > time.Minute {
		return
	}
	c.rtt.Update(rtt, delay)
}

// onAck processes an acknowledgement frame.
func (c *conn) onAck(a *rudp.AckFrame) {
	next := c.hist.NextPN()
	if next == 0 {
		c.st.BadPackets++
		return
	}
	largest := rudp.UnwrapPN(next-1, a.LargestPN)
	if largest >= next {
		c.st.BadPackets++
		return
	}
	largestNew, newData, newlyAcked := false, false, 0
	prevLargest, hadLargest := c.hist.LargestAcked()
	ackOne := func(p *rudp.SentPacket) {
		prior := c.hist.BytesInFlight()
		if c.repairIsLoss && hadLargest && p.PN < prevLargest && p.HasSeq && !p.Lost {
			// An earlier ack passed this packet: the receiver filled the
			// hole without a retransmission (FEC, or reordering).
			c.cc.OnCongestionEvent(c.now, p.PN, p.Size, prior)
			c.st.RepairCongestionEvents++
		}
		if c.hist.MarkAcked(p) {
			c.cc.OnPacketAcked(c.now, p.PN, p.Size, prior)
		} else if p.HasSeq && !p.Lost {
			// Presumed lost by the NACK sender (out of the flight without
			// a loss signal) but only late: the delivery still counts, or
			// BBR's rate samples miss every delayed packet and its
			// bandwidth estimate stalls (P4 bench: 11–35 Mbit/s, 40–44
			// with this). The prior flight includes it again.
			c.cc.OnPacketAcked(c.now, p.PN, p.Size, prior+p.Size)
		}
		newlyAcked++
		if p.HasSeq && c.sb.Ack(p.Seq) {
			newData = true
		}
	}
	for i := 0; i < a.NumRanges; i++ {
		r := a.Ranges[i]
		hi := largest - uint64(a.LargestPN-r.Largest)
		lo := largest - uint64(a.LargestPN-r.Smallest)
		if hi > largest || lo > hi {
			c.st.BadPackets++
			return
		}
		c.pmtuOnAckRange(lo, hi)
		lo = max(lo, c.hist.Base())
		for pn := lo; pn <= hi && pn < next; pn++ {
			p := c.hist.Get(pn)
			if p == nil || p.Acked {
				continue
			}
			if pn == largest {
				largestNew = true
			}
			ackOne(p)
		}
	}
	// Cumulative sequence: frames below it arrived even if the ranges no
	// longer show their packets.
	cum := rudp.UnwrapPN(c.sb.Base(), a.CumSeq)
	if cum > c.sb.Next() {
		c.st.BadPackets++
		return
	}
	for seq := c.sb.Base(); seq < cum; seq++ {
		f := c.sb.Get(seq)
		if f == nil || f.Acked {
			continue // released by an earlier acknowledgement in this loop
		}
		if p := c.hist.Get(f.LastPN); p != nil && !p.Acked {
			ackOne(p)
		}
	}
	if n, _ := c.sb.AckBelow(cum); n > 0 {
		newData = true
	}
	if m := rudp.UnwrapPN(c.peerMaxSeq, a.MaxSeq); m > c.peerMaxSeq {
		c.peerMaxSeq = m
	}
	if !newData && newlyAcked > 0 && c.cc.InRecovery() {
		c.cc.OnDuplicateAck(c.now)
	}
	if newData && c.closeErr != nil && c.state == stateOpen {
		c.lingerUntil = c.now.Add(c.cfg.CloseTimeout) // the close is progressing
	}
	c.strat.OnAckReceived(c.now, a, largestNew, newData)
	rudp.PruneHistory(&c.hist, &c.sb, c.now.Add(-rudp.LostRetention(&c.rtt)))
	if c.finQueued && c.sb.Base() > c.finSeq {
		c.maybeLinger()
	}
}

// onData processes a data frame (received or recovered by FEC).
func (c *conn) onData(pn uint64, d *rudp.DataFrame, tag *rudp.FECTag, body []byte) {
	if !d.Kind.Reliable() {
		c.strat.OnDataReceived(c.now, pn, d.Kind, 0, tag, body)
		c.onUnreliable(d)
		return
	}
	seq := rudp.UnwrapPN(max(c.rb.Highest(), 1)-1, d.Seq)
	if seq >= c.advMaxSeq {
		c.st.OutOfWindow++
		return
	}
	c.strat.OnDataReceived(c.now, pn, d.Kind, seq, tag, body)
	var payload []byte
	if len(d.Payload) > 0 {
		payload = c.rxPool.get()[:len(d.Payload)]
		copy(payload, d.Payload)
	}
	switch c.rb.Insert(seq, d.Kind, d.Flags, d.FragIndex, payload) {
	case rudp.InsertNew:
	case rudp.InsertDuplicate:
		c.st.DuplicatesReceived++
		c.rxPool.put(payload)
		return
	default:
		c.st.OutOfWindow++
		c.rxPool.put(payload)
		return
	}
	if d.Kind == rudp.KindReliableUnordered && seq != c.rb.Cum() {
		c.tryUnorderedEarly(seq)
	}
	c.deliverInOrder()
}
