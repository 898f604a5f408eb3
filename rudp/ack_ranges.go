package rudp

import "time"

// maxTrackedRanges bounds the receiver's memory of packet-number ranges.
const maxTrackedRanges = 2 * MaxAckRanges

// pnRange is an inclusive range of 64-bit packet numbers.
type pnRange struct{ lo, hi uint64 }

// ReceiveStatus classifies an arriving packet number.
type ReceiveStatus int

// Results of ReceivedPackets.Add.
const (
	PacketNew       ReceiveStatus = iota // first time seen
	PacketDuplicate                      // seen before
	PacketTooOld                         // below the tracked ranges: unknown, not acknowledged again
)

// ReceivedPackets tracks which packet numbers arrived, as a bounded list of
// ranges (the newest maxTrackedRanges), and builds the packet-number part of
// an AckFrame. Its zero value is empty. Not safe for concurrent use.
type ReceivedPackets struct {
	ranges      []pnRange // ascending, disjoint, non-adjacent
	largestTime time.Time // when the largest packet number arrived
	largestTS   uint32    // that packet's timestamp (echoed)
}

// Add records pn arriving at now carrying the sender's timestamp ts.
func (r *ReceivedPackets) Add(pn uint64, now time.Time, ts uint32) ReceiveStatus {
	n := len(r.ranges)
	if n == 0 {
		r.ranges = append(r.ranges, pnRange{pn, pn})
		r.largestTime, r.largestTS = now, ts
		return PacketNew
	}
	if pn > r.ranges[n-1].hi {
		r.largestTime, r.largestTS = now, ts
		if pn == r.ranges[n-1].hi+1 {
			r.ranges[n-1].hi = pn
		} else {
			r.ranges = append(r.ranges, pnRange{pn, pn})
			if len(r.ranges) > maxTrackedRanges {
				copy(r.ranges, r.ranges[1:])
				r.ranges = r.ranges[:len(r.ranges)-1]
			}
		}
		return PacketNew
	}
	if pn < r.ranges[0].lo {
		if len(r.ranges) < maxTrackedRanges || pn+1 == r.ranges[0].lo {
			r.insert(0, pn)
			return PacketNew
		}
		return PacketTooOld
	}
	// Find the last range with lo <= pn (scan from the end: arrivals are
	// usually recent).
	i := n - 1
	for r.ranges[i].lo > pn {
		i--
	}
	if pn <= r.ranges[i].hi {
		return PacketDuplicate
	}
	r.insert(i+1, pn)
	return PacketNew
}

// insert adds pn, which lies between ranges[i-1] and ranges[i], merging.
func (r *ReceivedPackets) insert(i int, pn uint64) {
	joinLeft := i > 0 && r.ranges[i-1].hi+1 == pn
	joinRight := i < len(r.ranges) && r.ranges[i].lo == pn+1
	switch {
	case joinLeft && joinRight:
		r.ranges[i-1].hi = r.ranges[i].hi
		r.ranges = append(r.ranges[:i], r.ranges[i+1:]...)
	case joinLeft:
		r.ranges[i-1].hi = pn
	case joinRight:
		r.ranges[i].lo = pn
	default:
		r.ranges = append(r.ranges, pnRange{})
		copy(r.ranges[i+1:], r.ranges[i:])
		r.ranges[i] = pnRange{pn, pn}
		if len(r.ranges) > maxTrackedRanges {
			copy(r.ranges, r.ranges[1:])
			r.ranges = r.ranges[:len(r.ranges)-1]
		}
	}
}

// Largest returns the largest packet number received, its arrival time and
// timestamp; ok is false before any packet.
func (r *ReceivedPackets) Largest() (pn uint64, at time.Time, ts uint32, ok bool) {
	if len(r.ranges) == 0 {
		return 0, time.Time{}, 0, false
	}
	return r.ranges[len(r.ranges)-1].hi, r.largestTime, r.largestTS, true
}

// Fill writes the newest ranges (as many as fit the frame and the 16-bit
// gap and length fields) into ack. It reports false before any packet.
func (r *ReceivedPackets) Fill(ack *AckFrame) bool {
	n := len(r.ranges)
	if n == 0 {
		return false
	}
	top := r.ranges[n-1]
	ack.LargestPN = uint32(top.hi)
	lo := top.lo
	if top.hi-lo > 0xFFFF {
		lo = top.hi - 0xFFFF
	}
	ack.Ranges[0] = AckRange{Smallest: uint32(lo), Largest: uint32(top.hi)}
	ack.NumRanges = 1
	prevLo := lo
	for i := n - 2; i >= 0 && ack.NumRanges < MaxAckRanges && prevLo == r.ranges[i+1].lo; i-- {
		g := r.ranges[i]
		if prevLo-g.hi-2 > 0xFFFF {
			break
		}
		lo := g.lo
		if g.hi-lo > 0xFFFF {
			lo = g.hi - 0xFFFF
		}
		ack.Ranges[ack.NumRanges] = AckRange{Smallest: uint32(lo), Largest: uint32(g.hi)}
		ack.NumRanges++
		prevLo = lo
	}
	return true
}
