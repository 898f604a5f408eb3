package rudp

// RecvSlot is one reliable frame held by the receiver.
type RecvSlot struct {
	Present   bool
	Consumed  bool // delivered early (unordered message) — skip on in-order pop
	Kind      FrameKind
	Flags     uint8
	FragIndex uint16
	Payload   []byte // owned by the buffer's user; handed over on Pop
}

// InsertStatus is the result of RecvBuffer.Insert.
type InsertStatus int

// Insert results.
const (
	InsertNew         InsertStatus = iota // stored
	InsertDuplicate                       // already held or already delivered
	InsertOutOfWindow                     // at or beyond the window limit: dropped
)

// RecvBuffer reorders reliable frames: it holds frames from the next
// expected sequence number (Cum) up to Cum+Capacity−1, discards duplicates,
// and hands frames out in order. Memory is bounded by Capacity slots. The
// zero value has capacity 0 and accepts nothing; set Capacity first. Not
// safe for concurrent use.
type RecvBuffer struct {
	// Capacity is the largest number of sequence numbers the window spans.
	Capacity int

	ring    []RecvSlot
	head    int
	cum     uint64
	held    int
	highest uint64 // highest sequence held or delivered + 1
}

// Cum returns the next sequence number expected in order.
func (r *RecvBuffer) Cum() uint64 { return r.cum }

// Held returns how many out-of-order frames are buffered.
func (r *RecvBuffer) Held() int { return r.held }

// Highest returns one past the highest sequence number received.
func (r *RecvBuffer) Highest() uint64 { return max(r.highest, r.cum) }

func (r *RecvBuffer) slot(seq uint64) *RecvSlot {
	return &r.ring[(r.head+int(seq-r.cum))&(len(r.ring)-1)]
}

// Get returns the slot of seq if it lies in the window, else nil.
func (r *RecvBuffer) Get(seq uint64) *RecvSlot {
	if seq < r.cum || seq >= r.cum+uint64(len(r.ring)) || seq >= r.cum+uint64(r.Capacity) {
		return nil
	}
	return r.slot(seq)
}

// Insert stores a frame. The buffer keeps payload (the caller must not
// reuse it) unless the status is not InsertNew.
func (r *RecvBuffer) Insert(seq uint64, kind FrameKind, flags uint8, fragIndex uint16, payload []byte) InsertStatus {
	if seq < r.cum {
		return InsertDuplicate
	}
	off := seq - r.cum
	if off >= uint64(r.Capacity) {
		return InsertOutOfWindow
	}
	for off >= uint64(len(r.ring)) {
		r.grow()
	}
	s := r.slot(seq)
	if s.Present || s.Consumed {
		return InsertDuplicate
	}
	*s = RecvSlot{Present: true, Kind: kind, Flags: flags, FragIndex: fragIndex, Payload: payload}
	r.held++
	if seq+1 > r.highest {
		r.highest = seq + 1
	}
	return InsertNew
}

func (r *RecvBuffer) grow() {
	n := min(max(16, 2*len(r.ring)), nextPow2(r.Capacity))
	nr := make([]RecvSlot, n)
	for i := range r.ring {
		nr[i] = r.ring[(r.head+i)&(len(r.ring)-1)]
	}
	r.ring, r.head = nr, 0
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// Consume marks an out-of-order slot as delivered early and returns its
// payload (the slot forgets it); in-order Pop will skip it.
func (r *RecvBuffer) Consume(seq uint64) []byte {
	s := r.Get(seq)
	if s == nil || !s.Present {
		return nil
	}
	p := s.Payload
	s.Present, s.Consumed, s.Payload = false, true, nil
	r.held--
	return p
}

// Pop returns the next in-order frame and advances Cum; ok is false when
// the next sequence number has not arrived. A consumed slot is returned with
// Consumed set and no payload.
func (r *RecvBuffer) Pop() (seq uint64, s RecvSlot, ok bool) {
	if len(r.ring) == 0 {
		return 0, RecvSlot{}, false
	}
	p := &r.ring[r.head]
	if !p.Present && !p.Consumed {
		return 0, RecvSlot{}, false
	}
	s, seq = *p, r.cum
	if p.Present {
		r.held--
	}
	*p = RecvSlot{}
	r.head = (r.head + 1) & (len(r.ring) - 1)
	r.cum++
	return seq, s, true
}
