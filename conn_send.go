package skiff

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rudp"
)

// header returns a header for the next packet of type t.
func (c *conn) header(t rudp.PacketType) rudp.Header {
	h := rudp.Header{Version: rudp.Version, Type: t, ConnID: c.id,
		PacketNumber: uint32(c.hist.NextPN()), Timestamp: c.timestamp()}
	if _, at, ts, ok := c.rp.Largest(); ok {
		h.Echo = ts
		d := c.now.Sub(at) / (rudp.EchoDelayUnit * time.Microsecond)
		h.EchoDelay = uint16(min(max(d, 0), 0xFFFF))
	}
	return h
}

// sendPacket encodes p, writes it and records it in the history. seq is
// the reliable frame carried when p is a reliable data packet.
// Ack-eliciting packets count in flight (congestion control), except pings.
func (c *conn) sendPacket(p *rudp.Packet, ackEliciting, reliable bool, seq uint64) {
	inFlight := ackEliciting && p.Header.Type != rudp.TypePing
	buf := c.pktPool.get()
	defer c.pktPool.put(buf)
	b := p.AppendTo(buf[:0])
	if err := c.tr.writeTo(b, c.remote); err != nil {
		c.st.BadPackets += 0 // write errors are transient for UDP; the loss machinery recovers
	}
	c.st.PacketsSent++
	c.st.BytesSent += uint64(len(b))
	sp := rudp.SentPacket{Time: c.now, Size: len(b), Seq: seq, HasSeq: reliable,
		AckEliciting: ackEliciting, InFlight: inFlight}
	prior := c.hist.BytesInFlight()
	pn := c.hist.NextPN()
	c.hist.Add(sp)
	if p.Header.Flags&rudp.FlagAck != 0 {
		// Before OnPacketSent: a repair packet sent from it reuses c.out.
		c.ackEliciting, c.ackNow, c.ackDeadline = 0, false, time.Time{}
	}
	if ackEliciting {
		c.lastSend = c.now
		if inFlight {
			c.cc.OnPacketSent(c.now, pn, len(b), prior)
		}
		var frame []byte
		if p.Header.Type == rudp.TypeData {
			frame = b[len(b)-rudp.ChecksumSize-p.Data.MarshalSize() : len(b)-rudp.ChecksumSize]
		}
		c.strat.OnPacketSent(c.now, c.hist.Get(pn), frame)
	}
}

// fillAck builds the acknowledgement for the current receive state.
func (c *conn) fillAck(a *rudp.AckFrame) bool {
	*a = rudp.AckFrame{}
	if !c.rp.Fill(a) {
		return false
	}
	a.CumSeq = uint32(c.rb.Cum())
	c.advMaxSeq = max(c.advMaxSeq, c.windowLimit())
	a.MaxSeq = uint32(c.advMaxSeq)
	c.strat.AppendFeedback(c.now, a)
	return true
}

// windowLimit is the flow-control limit the receive state allows now:
// the window minus what the application has not read yet.
func (c *conn) windowLimit() uint64 {
	c.s.mu.Lock()
	pending := c.s.pendingChunksLocked() + c.s.msgBytes/c.rxUnit
	c.s.mu.Unlock()
	free := max(c.capacity-pending, 0)
	return c.rb.Cum() + uint64(free)
}

func (c *conn) sendAck() {
	c.out = rudp.Packet{Header: c.header(rudp.TypeAck)}
	c.out.Header.Flags = rudp.FlagAck
	if !c.fillAck(&c.out.Ack) {
		c.ackEliciting, c.ackNow = 0, false
		return
	}
	c.sendPacket(&c.out, false, false, 0)
}

func (c *conn) sendPing() {
	c.out = rudp.Packet{Header: c.header(rudp.TypePing)}
	c.st.ProbesSent++
	c.sendPacket(&c.out, true, false, 0)
}

// sendFrame sends one data frame. retransmission frames are reliable
// frames sent again.
func (c *conn) sendFrame(kind rudp.FrameKind, flags uint8, frag uint16, seq uint64, payload []byte, f *rudp.Frame) {
	c.out = rudp.Packet{Header: c.header(rudp.TypeData)}
	c.out.Data = rudp.DataFrame{Kind: kind, Flags: flags, FragIndex: frag, Seq: uint32(seq), Payload: payload}
	if tag, ok := c.strat.TagSource(c.now, c.hist.NextPN()); ok {
		c.out.Header.Flags |= rudp.FlagFEC
		c.out.FEC = tag
	}
	if c.ackEliciting > 0 || c.ackNow {
		// Piggyback the pending acknowledgement when it fits.
		c.out.Header.Flags |= rudp.FlagAck
		if !c.fillAck(&c.out.Ack) || c.out.MarshalSize() > c.cfg.MTU {
			c.out.Header.Flags &^= rudp.FlagAck
		}
	}
	if f != nil {
		f.LastPN, f.LastSent = c.hist.NextPN(), c.now
		f.Transmissions++
		if f.Transmissions > 1 {
			c.st.PacketsRetransmitted++
			c.st.BytesRetransmitted += uint64(len(payload))
		} else {
			c.st.DataBytesSent += uint64(len(payload))
		}
	} else {
		c.st.DataBytesSent += uint64(len(payload))
	}
	c.sendPacket(&c.out, true, kind.Reliable(), seq)
}

// flush sends what congestion control, pacing and flow control allow:
// an ack if due, retransmissions, then new data; a probe if requested.
func (c *conn) flush() {
	if c.state == stateHandshake || c.state == stateDone {
		return
	}
	if c.ackNow || (c.ackEliciting > 0 && !c.ackDeadline.IsZero() && !c.now.Before(c.ackDeadline)) {
		c.sendAck()
	}
	if c.state == stateLinger {
		return
	}
	c.pacingWait = time.Time{}
	c.blocked = false
	sent := 0
	for {
		flight := c.hist.BytesInFlight()
		if !c.cc.CanSend(flight) && !c.probe {
			break
		}
		if t := c.cc.TimeUntilSend(flight); !c.probe && t.After(c.now) {
			c.pacingWait = t
			break
		}
		if len(c.repairQ) > 0 {
			c.sendQueuedRepair()
		} else if f := c.sb.PopRetransmit(); f != nil {
			c.sendFrame(f.Kind, f.Flags, f.FragIndex, f.Seq, f.Payload, f)
		} else if !c.sendNewData() {
			if !c.blocked {
				c.markAppLimited(flight)
			}
			break
		}
		sent++
		c.probe = false
	}
	if c.probe {
		c.sendPing()
		c.probe = false
	}
	if c.ackNow {
		c.sendAck()
	}
}

// markAppLimited tells a delivery-rate controller (BBR) that the sender ran
// out of data with the window open: rate samples taken until the current
// flight is acknowledged then reflect the application, not the path, and
// must not lower the bandwidth estimate (media and message flows would
// otherwise drag it down to their own rate between bursts, and the next
// burst, an I frame, would wait in the send queue).
func (c *conn) markAppLimited(flight int) {
	if n, ok := c.cc.(congestion.AppLimitedNotifier); ok {
		n.OnAppLimited(flight)
	}
}

// sendNewData cuts the next frame from the application's queue and sends
// it; false when there is nothing to send (or flow control blocks).
func (c *conn) sendNewData() bool {
	s := c.s
	s.mu.Lock()
	if len(s.sendQ) == 0 {
		closing := s.closeCalled
		s.mu.Unlock()
		if (closing || c.remoteFin) && !c.finQueued {
			return c.queueFin()
		}
		return false
	}
	it := &s.sendQ[0]
	reliable := it.kind.Reliable()
	if reliable && c.sb.Next() >= c.peerMaxSeq {
		s.mu.Unlock()
		c.blocked = true
		return false
	}
	n := min(len(it.data)-it.off, c.maxPayload)
	flags := uint8(0)
	if it.off == 0 {
		flags |= rudp.FrameFirst
	}
	if it.off+n == len(it.data) {
		flags |= rudp.FrameLast
	}
	kind, frag := it.kind, uint16(it.frag)
	if kind == rudp.KindStream {
		flags, frag = rudp.FrameFirst|rudp.FrameLast, 0
	}
	var payload []byte
	if reliable {
		payload = c.txPool.get()[:n]
	} else {
		payload = c.txPool.get()[:n]
	}
	copy(payload, it.data[it.off:it.off+n])
	it.off += n
	it.frag++
	consumed := n
	if len(it.data) == 0 {
		consumed = 1
	}
	s.sendQBytes -= consumed
	if it.off == len(it.data) {
		if it.pooled {
			streamPool.put(it.data)
		}
		s.sendQ[0] = outItem{}
		s.sendQ = s.sendQ[1:]
		if len(s.sendQ) == 0 {
			s.sendQ = s.sendQ[:0]
		}
	}
	s.mu.Unlock()
	signal(s.writable)
	if reliable {
		f := c.sb.Push(kind, flags, frag, payload)
		c.sendFrame(kind, flags, frag, f.Seq, payload, c.sb.Get(f.Seq))
	} else {
		seq := c.useqNext
		c.useqNext++
		c.sendFrame(kind, flags, frag, seq, payload, nil)
		c.txPool.put(payload)
	}
	return true
}

// queueFin pushes the end-of-stream frame once everything queued was cut.
func (c *conn) queueFin() bool {
	if c.sb.Next() >= c.peerMaxSeq {
		c.blocked = true
		return false
	}
	c.finQueued = true
	f := c.sb.Push(rudp.KindFin, rudp.FrameFirst|rudp.FrameLast, 0, nil)
	c.finSeq = f.Seq
	c.sendFrame(rudp.KindFin, rudp.FrameFirst|rudp.FrameLast, 0, f.Seq, nil, c.sb.Get(f.Seq))
	return true
}
