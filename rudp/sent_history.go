package rudp

import "time"

// SentPacket is the sender's record of one transmission.
type SentPacket struct {
	PN   uint64
	Time time.Time
	Size int // bytes on the wire
	// Seq is the reliable sequence number of the frame carried, valid when
	// HasSeq (reliable data packets).
	Seq    uint64
	HasSeq bool
	// AckEliciting packets (data, ping, repair) are acknowledged by the
	// peer; InFlight ones count against the congestion window until acked
	// or declared lost.
	AckEliciting bool
	InFlight     bool
	Acked        bool
	Lost         bool
}

// SentHistory records every transmission by packet number, from the
// oldest that still matters to the newest. Packet numbers are consecutive
// (ack-only packets are recorded too), so lookup is O(1). Its zero value is
// empty. Not safe for concurrent use.
type SentHistory struct {
	ring    []SentPacket
	head    int
	base    uint64 // PN of ring[head]
	next    uint64 // next packet number
	flight  int    // bytes in flight
	largest uint64 // largest acknowledged packet number (+1; 0 = none)
	// reorder is the largest reordering distance observed: a packet
	// declared lost and acknowledged later had this many later packets
	// acknowledged before it (RFC 8985 §6.2 style adaptation).
	reorder  uint64
	spurious uint64
}

// Reordering returns the largest reordering distance seen (0: none) and
// the number of spurious loss declarations.
func (h *SentHistory) Reordering() (distance, spurious uint64) { return h.reorder, h.spurious }

// NextPN returns the packet number the next transmission gets.
func (h *SentHistory) NextPN() uint64 { return h.next }

// Base returns the oldest recorded packet number.
func (h *SentHistory) Base() uint64 { return h.base }

// BytesInFlight returns the bytes of in-flight packets.
func (h *SentHistory) BytesInFlight() int { return h.flight }

// LargestAcked returns the largest acknowledged packet number; ok is false
// before the first acknowledgement.
func (h *SentHistory) LargestAcked() (uint64, bool) { return h.largest - 1, h.largest > 0 }

// Len returns the number of records held.
func (h *SentHistory) Len() int { return int(h.next - h.base) }

// Add records the next transmission; p.PN must equal NextPN.
func (h *SentHistory) Add(p SentPacket) {
	if h.Len() == len(h.ring) {
		n := max(8, 2*len(h.ring))
		r := make([]SentPacket, n)
		for i := 0; i < h.Len(); i++ {
			r[i] = h.ring[(h.head+i)&(len(h.ring)-1)]
		}
		h.ring, h.head = r, 0
	}
	p.PN = h.next
	h.ring[(h.head+h.Len())&(len(h.ring)-1)] = p
	h.next++
	if p.InFlight {
		h.flight += p.Size
	}
}

// Get returns the record of pn, or nil if it is not held.
func (h *SentHistory) Get(pn uint64) *SentPacket {
	if pn < h.base || pn >= h.next {
		return nil
	}
	return &h.ring[(h.head+int(pn-h.base))&(len(h.ring)-1)]
}

// MarkAcked marks p acknowledged and takes it out of flight; it reports
// whether p was in flight.
func (h *SentHistory) MarkAcked(p *SentPacket) (wasInFlight bool) {
	p.Acked = true
	if p.Lost && h.largest > p.PN+1 {
		h.spurious++
		h.reorder = max(h.reorder, h.largest-1-p.PN)
	}
	if p.PN+1 > h.largest {
		h.largest = p.PN + 1
	}
	return h.leaveFlight(p)
}

// MarkLost marks p lost and takes it out of flight; it reports whether p
// was in flight.
func (h *SentHistory) MarkLost(p *SentPacket) (wasInFlight bool) {
	p.Lost = true
	return h.leaveFlight(p)
}

// LeaveFlight takes p out of flight without declaring it lost (the NACK
// strategy's presumed loss: the receiver decides); it reports whether p was
// in flight.
func (h *SentHistory) LeaveFlight(p *SentPacket) bool { return h.leaveFlight(p) }

func (h *SentHistory) leaveFlight(p *SentPacket) bool {
	if !p.InFlight {
		return false
	}
	p.InFlight = false
	h.flight -= p.Size
	return true
}

// Prune drops records from the front while done reports them finished.
func (h *SentHistory) Prune(done func(p *SentPacket) bool) {
	for h.base < h.next {
		p := &h.ring[h.head]
		if !done(p) {
			return
		}
		*p = SentPacket{}
		h.head = (h.head + 1) & (len(h.ring) - 1)
		h.base++
	}
	if h.base == h.next && len(h.ring) > 1024 {
		h.ring, h.head = nil, 0 // shrink after a burst
	}
}
