package rtp

import "time"

// sentPacket is one media packet kept for retransmission.
type sentPacket struct {
	valid    bool
	seq      uint16
	pkt      []byte // marshalled media packet
	priority uint8
	deadline time.Time // zero: none
	lastSent time.Time // first transmission
	lastRTX  time.Time // latest retransmission (or tail probe)
	resent   int
}

// history is a ring of the last N media packets indexed by sequence number.
type history struct{ ring []sentPacket }

func newHistory(n int) history { return history{ring: make([]sentPacket, n)} }

func (h *history) put(p sentPacket) { h.ring[int(p.seq)%len(h.ring)] = p }

// get returns the packet with sequence number seq if it is still held.
func (h *history) get(seq uint16) *sentPacket {
	e := &h.ring[int(seq)%len(h.ring)]
	if !e.valid || e.seq != seq {
		return nil
	}
	return e
}
