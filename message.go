package skiff

import "github.com/skiffnet/skiff/rudp"

// maxPartialUnreliable bounds unreliable messages being reassembled.
const maxPartialUnreliable = 32

// partialMsg is an unreliable message being reassembled.
type partialMsg struct {
	first uint64 // sequence of fragment 0
	n     int    // fragments present
	total int    // fragment count, known once the last fragment arrived
	kind  rudp.FrameKind
	parts [][]byte
	bytes int
}

// unreliableReassembly holds a bounded number of incomplete unreliable
// messages; the oldest is dropped when a new one does not fit.
type unreliableReassembly struct {
	msgs []*partialMsg
	top  uint64 // highest message start seen + 1
}

func (u *unreliableReassembly) highest() uint64     { return u.top }
func (u *unreliableReassembly) setHighest(v uint64) { u.top = v }

// deliverStream hands an in-order stream payload to the application.
func (c *conn) deliverStream(p []byte) {
	s := c.s
	s.mu.Lock()
	if s.closeCalled || s.abortCalled {
		s.mu.Unlock()
		c.rxPool.put(p) // nobody will read it
		return
	}
	s.recvChunks = append(s.recvChunks, p)
	s.recvBytes += len(p)
	s.mu.Unlock()
	c.st.DataBytesReceived += uint64(len(p))
	signal(s.readable)
}

// deliverMessage hands a complete message to the application.
func (c *conn) deliverMessage(m []byte) {
	s := c.s
	s.mu.Lock()
	if s.closeCalled || s.abortCalled {
		s.mu.Unlock()
		return
	}
	if m == nil {
		m = []byte{}
	}
	s.msgs = append(s.msgs, m)
	s.msgBytes += len(m)
	s.mu.Unlock()
	c.st.DataBytesReceived += uint64(len(m))
	signal(s.msgReady)
}

// deliverInOrder pops in-order reliable frames into the stream and
// message queues.
func (c *conn) deliverInOrder() {
	for {
		_, sl, ok := c.rb.Pop()
		if !ok {
			return
		}
		if sl.Consumed {
			continue // an unordered message delivered early
		}
		switch sl.Kind {
		case rudp.KindStream:
			c.deliverStream(sl.Payload)
		case rudp.KindFin:
			c.onRemoteFin()
		case rudp.KindReliableOrdered, rudp.KindReliableUnordered:
			if sl.Flags&rudp.FrameFirst != 0 {
				c.msgBuf, c.msgActive = c.msgBuf[:0], true
			}
			if !c.msgActive {
				c.rxPool.put(sl.Payload)
				continue // a fragment without its start: protocol violation
			}
			if len(c.msgBuf)+len(sl.Payload) > c.cfg.MaxMessageSize {
				c.st.BadPackets++
				c.msgActive = false
				c.rxPool.put(sl.Payload)
				continue
			}
			c.msgBuf = append(c.msgBuf, sl.Payload...)
			c.rxPool.put(sl.Payload)
			if sl.Flags&rudp.FrameLast != 0 {
				c.deliverMessage(append([]byte(nil), c.msgBuf...))
				c.msgActive = false
				if cap(c.msgBuf) > 64<<10 {
					c.msgBuf = nil
				}
			}
		}
	}
}

// tryUnorderedEarly delivers a reliable-unordered message as soon as all
// its fragments are present, ahead of earlier sequence numbers.
func (c *conn) tryUnorderedEarly(seq uint64) {
	sl := c.rb.Get(seq)
	if sl == nil {
		return
	}
	first := seq - uint64(sl.FragIndex)
	if first < c.rb.Cum() {
		return // partly delivered in order already
	}
	last := first
	size := 0
	for ; ; last++ {
		x := c.rb.Get(last)
		if x == nil || !x.Present || x.Kind != rudp.KindReliableUnordered {
			return
		}
		if x.FragIndex != uint16(last-first) {
			return
		}
		size += len(x.Payload)
		if x.Flags&rudp.FrameLast != 0 {
			break
		}
		if size > c.cfg.MaxMessageSize {
			return
		}
	}
	if f := c.rb.Get(first); f == nil || f.Flags&rudp.FrameFirst == 0 {
		return
	}
	m := make([]byte, 0, size)
	for q := first; q <= last; q++ {
		p := c.rb.Consume(q)
		m = append(m, p...)
		c.rxPool.put(p)
	}
	c.deliverMessage(m)
}

// onUnreliable handles a fragment of an unreliable message.
func (c *conn) onUnreliable(d *rudp.DataFrame) {
	if d.Kind == rudp.KindStream || d.Kind == rudp.KindFin {
		return
	}
	ref := c.useqRecvRef()
	seq := rudp.UnwrapPN(ref, d.Seq)
	first := seq - uint64(d.FragIndex)
	if seq < uint64(d.FragIndex) {
		c.st.BadPackets++
		return
	}
	if first+1 > c.ureasm.highest() {
		c.ureasm.setHighest(first + 1)
	}
	if d.Kind == rudp.KindUnreliableSequenced && first+1 <= c.lastSeqUseq {
		c.st.MessagesDropped++ // stale
		return
	}
	if d.Flags == rudp.FrameFirst|rudp.FrameLast {
		c.deliverUnreliable(d.Kind, first, append([]byte(nil), d.Payload...))
		return
	}
	pm := c.ureasm.find(first)
	if pm == nil {
		pm = &partialMsg{first: first, kind: d.Kind}
		if len(c.ureasm.msgs) == maxPartialUnreliable {
			c.ureasm.msgs = c.ureasm.msgs[1:]
			c.st.MessagesDropped++
		}
		c.ureasm.msgs = append(c.ureasm.msgs, pm)
	}
	i := int(d.FragIndex)
	if i >= len(pm.parts) {
		if i >= 0xFFFF || pm.bytes+len(d.Payload) > c.cfg.MaxMessageSize {
			c.st.BadPackets++
			c.ureasm.remove(pm)
			return
		}
		pm.parts = append(pm.parts, make([][]byte, i+1-len(pm.parts))...)
	}
	if pm.parts[i] != nil {
		c.st.DuplicatesReceived++
		return
	}
	pm.parts[i] = append(make([]byte, 0, len(d.Payload)), d.Payload...)
	pm.n++
	pm.bytes += len(d.Payload)
	if d.Flags&rudp.FrameLast != 0 {
		pm.total = i + 1
	}
	if pm.total > 0 && pm.n == pm.total && len(pm.parts) == pm.total {
		m := make([]byte, 0, pm.bytes)
		for _, p := range pm.parts {
			m = append(m, p...)
		}
		c.ureasm.remove(pm)
		c.deliverUnreliable(pm.kind, pm.first, m)
	}
}

func (c *conn) useqRecvRef() uint64 {
	if h := c.ureasm.highest(); h > 0 {
		return h - 1
	}
	return 0
}

func (c *conn) deliverUnreliable(kind rudp.FrameKind, first uint64, m []byte) {
	if kind == rudp.KindUnreliableSequenced {
		if first+1 <= c.lastSeqUseq {
			c.st.MessagesDropped++
			return
		}
		c.lastSeqUseq = first + 1
		// Older incomplete sequenced messages can never be delivered now.
		for i := 0; i < len(c.ureasm.msgs); i++ {
			if pm := c.ureasm.msgs[i]; pm.kind == kind && pm.first < first {
				c.ureasm.remove(pm)
				c.st.MessagesDropped++
				i--
			}
		}
	}
	c.deliverMessage(m)
}

func (u *unreliableReassembly) find(first uint64) *partialMsg {
	for _, pm := range u.msgs {
		if pm.first == first {
			return pm
		}
	}
	return nil
}

func (u *unreliableReassembly) remove(pm *partialMsg) {
	for i, x := range u.msgs {
		if x == pm {
			u.msgs = append(u.msgs[:i], u.msgs[i+1:]...)
			return
		}
	}
}
