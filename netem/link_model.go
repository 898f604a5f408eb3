package netem

import "math/rand/v2"

// maxPooled bounds how many idle packet buffers a pipe keeps.
const maxPooled = 4096

// minBufCap is the smallest buffer a pipe allocates, so that buffers are
// reusable across typical datagram sizes.
const minBufCap = 2048

// linkModel is the pure state of one impaired direction: every decision of
// the link model, with time passed in as ns since the pipe's base. It does no
// I/O, starts nothing and is not safe for concurrent use (Pipe locks it).
type linkModel struct {
	prof    Profile
	rng     *rand.Rand
	ge      geState
	rules   []dropRule
	neck    bottleneck
	heap    releaseHeap // releases that may reorder (AllowReorder)
	inOrder fifo        // releases that may not: non-decreasing times
	seq     uint64
	lastRel int64
	stats   Stats
	free    [][]byte
}

func newLinkModel(p Profile, seed int64) linkModel {
	s := uint64(seed)
	return linkModel{prof: p, rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
}

func (m *linkModel) getBuf(n int) []byte {
	for len(m.free) > 0 {
		b := m.free[len(m.free)-1]
		m.free[len(m.free)-1] = nil
		m.free = m.free[:len(m.free)-1]
		if cap(b) >= n {
			return b[:n]
		}
	}
	return make([]byte, n, max(n, minBufCap))
}

func (m *linkModel) putBuf(b []byte) {
	if len(m.free) < maxPooled {
		m.free = append(m.free, b[:0])
	}
}

// chance draws once against probability p (no draw when p is 0 or 1).
func (m *linkModel) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	return p >= 1 || m.rng.Float64() < p
}

// offer runs one packet through the drop, corruption and duplication stages
// at time now and queues what survives.
func (m *linkModel) offer(now int64, pkt []byte, md meta) {
	m.advance(now)
	st := &m.stats
	pr := &m.prof
	st.OfferedPackets++
	st.OfferedBytes += uint64(len(pkt))
	switch {
	case pr.Down:
		st.DroppedDown++
		return
	case pr.MTU > 0 && len(pkt) > pr.MTU:
		st.DroppedMTU++
		return
	case len(m.rules) > 0 && scriptDrop(&m.rules, pkt):
		st.DroppedScript++
		return
	case pr.Burst != nil && m.ge.lose(pr.Burst, m.rng):
		st.DroppedBurst++
		return
	case m.chance(pr.Loss):
		st.DroppedLoss++
		return
	}
	buf := m.getBuf(len(pkt))
	copy(buf, pkt)
	if len(buf) > 0 && m.chance(pr.Corrupt) {
		bit := m.rng.IntN(len(buf) * 8)
		buf[bit/8] ^= 1 << (bit % 8)
		st.Corrupted++
	}
	copies := 1
	if m.chance(pr.Duplicate) {
		copies = 2
		st.Duplicated++
	}
	for c := 0; c < copies; c++ {
		b := buf
		if c == 1 {
			b = m.getBuf(len(buf))
			copy(b, buf)
		}
		m.enter(now, packet{buf: b, meta: md})
	}
}

// enter passes one copy to the bottleneck, or straight to the release heap.
func (m *linkModel) enter(now int64, p packet) {
	pr := &m.prof
	if !pr.hasBottleneck() && !m.neck.busy {
		m.release(now, p)
		return
	}
	if !m.neck.admit(len(p.buf), pr.QueueBytes) {
		m.stats.DroppedQueue++
		m.putBuf(p.buf)
		return
	}
	m.neck.enqueue(p, now, pr)
}

// release schedules a packet that left the bottleneck at time depart.
func (m *linkModel) release(depart int64, p packet) {
	pr := &m.prof
	at := depart + int64(sampleDelay(pr, m.rng))
	if !pr.AllowReorder && at < m.lastRel {
		at = m.lastRel
	}
	if s := int64(pr.Slot); s > 0 {
		if r := at % s; r != 0 {
			at += s - r
		}
	}
	if at > m.lastRel {
		m.lastRel = at
	}
	p.at = at
	m.seq++
	p.seq = m.seq
	if pr.AllowReorder {
		m.heap.push(p)
	} else {
		m.inOrder.push(p)
	}
}

// nextRelease returns the earliest scheduled release: from the in-order
// queue or from the heap, whichever is first by (time, sequence).
func (m *linkModel) nextRelease() (at int64, fromHeap, ok bool) {
	if m.inOrder.len() > 0 {
		f := m.inOrder.front()
		if len(m.heap) == 0 || f.at < m.heap[0].at || (f.at == m.heap[0].at && f.seq < m.heap[0].seq) {
			return f.at, false, true
		}
	}
	if len(m.heap) > 0 {
		return m.heap[0].at, true, true
	}
	return 0, false, false
}

// advance moves every packet whose serialisation ended by now into the
// release heap.
func (m *linkModel) advance(now int64) {
	for {
		p, ok := m.neck.departNext(now, &m.prof)
		if !ok {
			return
		}
		m.release(p.at, p)
	}
}

// popDue returns the next packet whose release time is at or before now.
func (m *linkModel) popDue(now int64) (packet, bool) {
	m.advance(now)
	at, fromHeap, ok := m.nextRelease()
	if !ok || at > now {
		return packet{}, false
	}
	if fromHeap {
		return m.heap.pop(), true
	}
	return m.inOrder.pop(), true
}

// nextEvent is the earliest time something happens (a release or a
// departure from the bottleneck).
func (m *linkModel) nextEvent() (int64, bool) {
	next, ok := m.neck.nextDeparture()
	if at, _, rok := m.nextRelease(); rok && (!ok || at < next) {
		next, ok = at, true
	}
	return next, ok
}

// setProfile switches to p at time now: what already left the bottleneck
// keeps its release time, the packet in service finishes at the old rate,
// waiting packets are serialised at the new one (or dropped if p is Down).
func (m *linkModel) setProfile(now int64, p Profile) {
	m.advance(now)
	if p.Trace != m.prof.Trace {
		m.neck.cursor = traceCursor{}
	}
	if p.Burst == nil {
		m.ge = geState{}
	}
	if p.Down { // an outage loses what waits at the bottleneck
		for m.neck.waiting.len() > 0 {
			q := m.neck.waiting.pop()
			m.neck.waitBytes -= len(q.buf)
			m.putBuf(q.buf)
			m.stats.DroppedDown++
		}
	}
	m.prof = p
}

func (m *linkModel) snapshot() Stats {
	s := m.stats
	s.QueueBytes = m.neck.waitBytes
	s.QueuePackets = m.neck.waiting.len()
	s.InFlight = len(m.heap) + m.inOrder.len()
	if m.neck.busy {
		s.InFlight++
	}
	return s
}
