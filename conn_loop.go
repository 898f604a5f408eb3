package skiff

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// handshakeInitialInterval is the first hello retransmission interval.
const handshakeInitialInterval = 250 * time.Millisecond

// run is the session's run loop: the one goroutine that owns c. It waits
// on inbound packets, application wake-ups and one timer.
func (c *conn) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	c.now = time.Now()
	c.lastRecv, c.lastSend = c.now, c.now
	c.startup()
	var batch []inbound
	for c.state != stateDone {
		c.now = time.Now()
		c.checkApp()
		if c.state == stateDone {
			break
		}
		c.onTimers()
		if c.state == stateDone {
			break
		}
		c.flush()
		c.publish()
		if d := c.nextDeadline(); d.IsZero() {
			timer.Reset(time.Hour)
		} else {
			timer.Reset(max(d.Sub(c.now), 0))
		}
		select {
		case <-c.s.inSignal:
			c.now = time.Now()
			batch = c.s.takeInbound(batch)
			for i, in := range batch {
				if c.state == stateDone {
					c.rxPool.put(in.buf)
				} else {
					c.handle(in)
				}
				batch[i] = inbound{}
			}
		case <-c.s.wake:
		case <-timer.C:
		}
	}
	c.publish()
	c.cleanup()
}

// startup sends the first handshake packet.
func (c *conn) startup() {
	if c.s.isClient {
		c.state = stateHandshake
		c.hsStart, c.hsNext, c.hsInterval = c.now, c.now, handshakeInitialInterval
		return
	}
	c.sendAccept(c.helloTS)
}

// checkApp applies close and abort requests and sends window updates.
func (c *conn) checkApp() {
	s := c.s
	s.mu.Lock()
	closing, aborting, err := s.closeCalled, s.abortCalled, s.err
	s.mu.Unlock()
	if aborting {
		if err == ErrAborted && c.state != stateHandshake {
			c.out = rudp.Packet{Header: c.header(rudp.TypeReset)}
			c.sendPacket(&c.out, false, false, 0)
		}
		c.finish(err)
		return
	}
	if closing && c.closeErr == nil && c.state == stateOpen {
		c.closeErr = ErrCloseTimeout // armed: see onTimers
		c.lingerUntil = c.now.Add(c.cfg.CloseTimeout)
	}
	if c.state == stateOpen {
		if w := c.windowLimit(); w > c.advMaxSeq && w-c.advMaxSeq >= uint64(c.capacity/4) {
			c.ackNow = true
		}
	}
}

func (c *conn) onTimers() {
	now := c.now
	switch c.state {
	case stateHandshake:
		if now.Sub(c.hsStart) >= c.cfg.HandshakeTimeout {
			c.finish(ErrHandshakeTimeout)
			return
		}
		if !now.Before(c.hsNext) {
			c.sendHello()
			c.hsNext = now.Add(c.hsInterval)
			c.hsInterval *= 2
		}
		return
	case stateLinger:
		if !now.Before(c.lingerUntil) {
			c.finish(nil)
		}
		return
	}
	if now.Sub(c.lastRecv) >= c.cfg.IdleTimeout {
		c.finish(ErrIdleTimeout)
		return
	}
	if c.closeErr != nil && !now.Before(c.lingerUntil) {
		c.out = rudp.Packet{Header: c.header(rudp.TypeReset)}
		c.sendPacket(&c.out, false, false, 0)
		c.finish(c.closeErr)
		return
	}
	if t := c.strat.NextTimeout(); !t.IsZero() && !now.Before(t) {
		c.strat.OnTimeout(now)
	}
	c.onPMTUTimer()
	if c.cfg.KeepAlive > 0 && now.Sub(c.lastSend) >= c.cfg.KeepAlive {
		c.probe = true
	}
	if c.blocked && c.hist.BytesInFlight() == 0 && now.Sub(c.lastSend) >= c.rtt.RTO() {
		c.probe = true // persist: ask for a window update
	}
}

func (c *conn) nextDeadline() time.Time {
	var d time.Time
	at := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	switch c.state {
	case stateHandshake:
		at(c.hsNext)
		at(c.hsStart.Add(c.cfg.HandshakeTimeout))
		return d
	case stateLinger:
		at(c.lingerUntil)
		if c.ackEliciting > 0 {
			at(c.ackDeadline)
		}
		return d
	}
	at(c.strat.NextTimeout())
	if c.ackEliciting > 0 {
		at(c.ackDeadline)
	}
	at(c.pmtuDeadline())
	at(c.pacingWait)
	at(c.lastRecv.Add(c.cfg.IdleTimeout))
	if c.closeErr != nil {
		at(c.lingerUntil)
	}
	if c.cfg.KeepAlive > 0 {
		at(c.lastSend.Add(c.cfg.KeepAlive))
	}
	if c.blocked && c.hist.BytesInFlight() == 0 {
		at(c.lastSend.Add(c.rtt.RTO()))
	}
	return d
}

// onRemoteFin records the peer's end of stream (delivered in order).
func (c *conn) onRemoteFin() {
	c.remoteFin = true
	c.s.mu.Lock()
	c.s.remoteFin = true
	c.s.mu.Unlock()
	signal(c.s.readable)
	signal(c.s.msgReady)
	c.maybeLinger()
}

// maybeLinger enters the linger state once both ends of stream were
// exchanged and ours was acknowledged: the close is complete.
func (c *conn) maybeLinger() {
	if c.state != stateOpen || !c.remoteFin || !c.finQueued || c.sb.Base() <= c.finSeq {
		return
	}
	c.state = stateLinger
	c.closeErr = nil
	c.lingerUntil = c.now.Add(min(max(3*c.rtt.RTO(), 100*time.Millisecond), time.Second))
	c.ackNow = true
	c.flush()
	c.closeFlushed()
}

func (c *conn) closeFlushed() {
	select {
	case <-c.s.flushed:
	default:
		close(c.s.flushed)
	}
}

// finish ends the session with err (nil: clean).
func (c *conn) finish(err error) {
	if c.state == stateDone {
		return
	}
	c.state = stateDone
	s := c.s
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.finished = true
	s.mu.Unlock()
}

// cleanup runs when the loop exits: it releases buffers, wakes every
// waiter and leaves the transport.
func (c *conn) cleanup() {
	s := c.s
	for _, in := range s.takeInbound(nil) {
		c.rxPool.put(in.buf)
	}
	for f := c.sb.OldestUnacked(); f != nil; f = c.sb.OldestUnacked() {
		c.sb.Ack(f.Seq) // releases payloads to the pool
	}
	for {
		if _, sl, ok := c.rb.Pop(); ok {
			c.rxPool.put(sl.Payload)
			continue
		}
		break
	}
	for seq := c.rb.Cum(); seq < c.rb.Highest(); seq++ {
		if p := c.rb.Consume(seq); p != nil {
			c.rxPool.put(p)
		}
	}
	s.rd.Stop()
	s.wd.Stop()
	c.closeFlushed()
	close(s.done)
	c.tr.unregister(s)
}

// publish copies the statistics for Session.Stats.
func (c *conn) publish() {
	st := c.st
	st.SRTT, st.RTTVar, st.MinRTT, st.RTO = c.rtt.SmoothedRTT(), c.rtt.RTTVar(), c.rtt.MinRTT(), c.rtt.RTO()
	st.CWND, st.SSThresh = c.cc.CongestionWindow(), c.cc.SlowStartThreshold()
	st.BytesInFlight = c.hist.BytesInFlight()
	st.CongestionState = c.cc.State()
	c.s.mu.Lock()
	st.DroppedInbound = c.s.inDrops
	c.s.stats = st
	c.s.mu.Unlock()
}

// --- handshake ---

// sendHello sends the client's hello (with the cookie once it has one),
// padded to the MTU.
func (c *conn) sendHello() {
	c.out = rudp.Packet{Header: c.header(rudp.TypeHello), PadTo: min(c.cfg.MTU, DefaultMTU)}
	c.out.Header.Echo, c.out.Header.EchoDelay = 0, 0
	c.out.Handshake = rudp.Handshake{MTU: uint16(c.pmtu.ceiling), MaxSeq: uint32(c.advMaxSeq), Cookie: c.cookie}
	c.sendPacket(&c.out, false, false, 0)
}

// sendAccept answers a valid hello; echo is the hello's timestamp.
func (c *conn) sendAccept(echo uint32) {
	c.out = rudp.Packet{Header: c.header(rudp.TypeAccept)}
	if echo != 0 {
		c.out.Header.Echo, c.out.Header.EchoDelay = echo, 0
	}
	c.out.Handshake = rudp.Handshake{MTU: uint16(c.pmtu.ceiling), MaxSeq: uint32(c.advMaxSeq)}
	c.sendPacket(&c.out, false, false, 0)
}

// acceptServer initialises a server session from the client's valid
// hello (called before the loop starts).
func (c *conn) acceptServer(now time.Time, p *rudp.Packet) {
	c.state = stateOpen
	c.peerMaxSeq = uint64(p.Handshake.MaxSeq)
	c.helloTS = p.Header.Timestamp
	c.applyPeerMaxDatagram(now, int(p.Handshake.MTU))
}

func (c *conn) onHello(in inbound, p *rudp.Packet) {
	if c.s.isClient || c.state != stateOpen {
		c.st.BadPackets++
		return
	}
	// The client did not get our accept: repeat it (it is smaller than the
	// padded hello, so no amplification).
	if in.from == c.remote {
		c.sendAccept(p.Header.Timestamp)
	}
}

func (c *conn) onRetry(p *rudp.Packet) {
	if !c.s.isClient || c.state != stateHandshake || len(p.Handshake.Cookie) == 0 {
		c.st.BadPackets++
		return
	}
	c.cookie = append(c.cookie[:0], p.Handshake.Cookie...)
	c.sendHello()
	c.hsInterval = handshakeInitialInterval
	c.hsNext = c.now.Add(c.hsInterval)
}

func (c *conn) onAccept(p *rudp.Packet) {
	if !c.s.isClient {
		c.st.BadPackets++
		return
	}
	if c.state != stateHandshake {
		return // duplicate
	}
	c.state = stateOpen
	c.peerMaxSeq = uint64(p.Handshake.MaxSeq)
	c.applyPeerMaxDatagram(c.now, int(p.Handshake.MTU))
	c.lastRecv = c.now
	c.sampleRTT(&p.Header)
	c.rp.Add(uint64(p.Header.PacketNumber), c.now, p.Header.Timestamp)
	c.ackNow = true
	close(c.s.established)
}

// String describes the connection for debugging.
func (c *conn) String() string {
	return fmt.Sprintf("conn %x state %d", c.id, c.state)
}
