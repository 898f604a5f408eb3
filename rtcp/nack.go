package rtcp

import (
	"slices"

	pionrtcp "github.com/pion/rtcp"
)

// Generic NACK (RFC 4585 §6.2.1), transport-layer feedback FMT=1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P| FMT=1   |   PT=205      |          length               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  SSRC of packet sender                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  SSRC of media source                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            PID                |             BLP               |  (repeated)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// PID is a lost sequence number; bit i of BLP set means PID+i+1 is lost too.

// BuildNACK returns a generic NACK from senderSSRC about mediaSSRC asking for
// the sequence numbers in lost (any order, duplicates allowed; ordered with
// wrap-around in mind, so a list spanning 65535→0 packs correctly). It
// returns nil when lost is empty.
func BuildNACK(senderSSRC, mediaSSRC uint32, lost []uint16) *pionrtcp.TransportLayerNack {
	if len(lost) == 0 {
		return nil
	}
	sorted := slices.Clone(lost)
	// Sort relative to the first element so wrap-around stays contiguous.
	ref := sorted[0]
	for _, s := range sorted {
		if SeqLess(s, ref) {
			ref = s
		}
	}
	slices.SortFunc(sorted, func(a, b uint16) int { return int(a-ref) - int(b-ref) })
	var pairs []pionrtcp.NackPair
	for _, s := range sorted {
		if n := len(pairs); n > 0 {
			d := s - pairs[n-1].PacketID
			if d == 0 {
				continue
			}
			if d <= 16 {
				pairs[n-1].LostPackets |= 1 << (d - 1)
				continue
			}
		}
		pairs = append(pairs, pionrtcp.NackPair{PacketID: s})
	}
	return &pionrtcp.TransportLayerNack{SenderSSRC: senderSSRC, MediaSSRC: mediaSSRC, Nacks: pairs}
}

// AppendNACKed appends the sequence numbers a NACK asks for to dst, in the
// order the pairs list them, and returns the extended slice. At most 17
// numbers per pair, so the output is bounded by the packet's size.
func AppendNACKed(dst []uint16, n *pionrtcp.TransportLayerNack) []uint16 {
	for _, p := range n.Nacks {
		dst = append(dst, p.PacketID)
		for i := range uint16(16) {
			if p.LostPackets&(1<<i) != 0 {
				dst = append(dst, p.PacketID+i+1)
			}
		}
	}
	return dst
}

// BuildPLI returns a Picture Loss Indication (RFC 4585 §6.3.1, PSFB FMT=1)
// from senderSSRC asking mediaSSRC for a key frame.
func BuildPLI(senderSSRC, mediaSSRC uint32) *pionrtcp.PictureLossIndication {
	return &pionrtcp.PictureLossIndication{SenderSSRC: senderSSRC, MediaSSRC: mediaSSRC}
}
