package rudp

import (
	"encoding/binary"
	"fmt"
)

// Limits on the variable parts of an AckFrame.
const (
	// MaxAckRanges is the largest number of packet-number ranges (the first
	// range included) one AckFrame carries.
	MaxAckRanges = 32
	// MaxNackRanges is the largest number of NACK ranges one AckFrame carries.
	MaxNackRanges = 32
	// ackFixedSize: LargestPN, FirstRange, CumSeq, MaxSeq, NumRanges, NumNacks.
	ackFixedSize = 4 + 2 + 4 + 4 + 1 + 1
)

// AckRange is an inclusive range of 32-bit packet numbers received.
type AckRange struct {
	Smallest, Largest uint32
}

// NackRange asks for Count reliable sequence numbers starting at First.
type NackRange struct {
	First uint32
	Count uint16
}

// AckFrame acknowledges packets by number and reliable data by sequence,
// advertises the flow-control limit and carries negative acknowledgements.
// Its zero value is an empty frame. Encode/decode never allocate; decoded
// ranges live in the fixed arrays.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                   Largest Packet Number (32)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        First Range (16)       |  Cumulative Seq (32) ...      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  ... Cumulative Seq           |  Max Seq (32) ...             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  ... Max Seq                  | Num Ranges (8)| Num NACKs (8) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Gap (16)  |  Length (16)   ... (Num Ranges − 1) times       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   NACK First Seq (32)  |  NACK Count (16) ... Num NACKs times  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Packet-number ranges follow QUIC's encoding (RFC 9000 §19.3.1): the first
// range covers Largest−FirstRange..Largest; each further range lies Gap+2
// below the smallest number of the previous one and spans Length+1 packets.
// Num Ranges counts the first range too (1..32). Cumulative Seq is the next
// reliable sequence number the receiver expects (all below it arrived); Max
// Seq is the flow-control limit: the sender must not send reliable sequence
// numbers ≥ Max Seq. NACK ranges name reliable sequence numbers the receiver
// asks to be retransmitted (NACK strategy).
type AckFrame struct {
	LargestPN uint32
	CumSeq    uint32
	MaxSeq    uint32
	NumRanges int
	Ranges    [MaxAckRanges]AckRange // Ranges[0].Largest == LargestPN; descending
	NumNacks  int
	Nacks     [MaxNackRanges]NackRange
}

// MarshalSize returns the encoded size.
func (a *AckFrame) MarshalSize() int {
	n := max(a.NumRanges, 1)
	return ackFixedSize + 4*(n-1) + 6*a.NumNacks
}

// AppendTo appends the encoded frame. The ranges must be valid (as
// Unmarshal would accept them); NumRanges 0 encodes a single range holding
// only LargestPN.
func (a *AckFrame) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, a.LargestPN)
	first := uint16(0)
	if a.NumRanges > 0 {
		first = uint16(a.Ranges[0].Largest - a.Ranges[0].Smallest)
	}
	b = binary.BigEndian.AppendUint16(b, first)
	b = binary.BigEndian.AppendUint32(b, a.CumSeq)
	b = binary.BigEndian.AppendUint32(b, a.MaxSeq)
	b = append(b, uint8(max(a.NumRanges, 1)), uint8(a.NumNacks))
	for i := 1; i < a.NumRanges; i++ {
		prev, r := a.Ranges[i-1], a.Ranges[i]
		b = binary.BigEndian.AppendUint16(b, uint16(prev.Smallest-r.Largest-2))
		b = binary.BigEndian.AppendUint16(b, uint16(r.Largest-r.Smallest))
	}
	for i := 0; i < a.NumNacks; i++ {
		b = binary.BigEndian.AppendUint32(b, a.Nacks[i].First)
		b = binary.BigEndian.AppendUint16(b, a.Nacks[i].Count)
	}
	return b
}

// Unmarshal decodes a frame from the start of b and returns the bytes read.
// It rejects range lists that are too long or that span more than 2^31
// packet numbers, and empty NACK ranges.
func (a *AckFrame) Unmarshal(b []byte) (int, error) {
	if len(b) < ackFixedSize {
		return 0, fmt.Errorf("%w: ack frame needs %d bytes, have %d", ErrTruncated, ackFixedSize, len(b))
	}
	a.LargestPN = binary.BigEndian.Uint32(b)
	first := binary.BigEndian.Uint16(b[4:])
	a.CumSeq = binary.BigEndian.Uint32(b[6:])
	a.MaxSeq = binary.BigEndian.Uint32(b[10:])
	nr, nn := int(b[14]), int(b[15])
	if nr < 1 || nr > MaxAckRanges {
		return 0, fmt.Errorf("%w: ack range count %d out of [1, %d]", ErrMalformed, nr, MaxAckRanges)
	}
	if nn > MaxNackRanges {
		return 0, fmt.Errorf("%w: nack range count %d above %d", ErrMalformed, nn, MaxNackRanges)
	}
	need := ackFixedSize + 4*(nr-1) + 6*nn
	if len(b) < need {
		return 0, fmt.Errorf("%w: ack frame with %d ranges and %d nacks needs %d bytes, have %d",
			ErrTruncated, nr, nn, need, len(b))
	}
	a.NumRanges, a.NumNacks = nr, nn
	a.Ranges[0] = AckRange{Smallest: a.LargestPN - uint32(first), Largest: a.LargestPN}
	span := uint64(first) // distance of the current smallest below LargestPN
	off := ackFixedSize
	for i := 1; i < nr; i++ {
		gap := uint64(binary.BigEndian.Uint16(b[off:]))
		length := uint64(binary.BigEndian.Uint16(b[off+2:]))
		off += 4
		span += gap + 2 + length
		if span >= 1<<31 {
			return 0, fmt.Errorf("%w: ack range %d reaches %d below the largest packet number", ErrMalformed, i, span)
		}
		hi := a.Ranges[i-1].Smallest - uint32(gap) - 2
		a.Ranges[i] = AckRange{Smallest: hi - uint32(length), Largest: hi}
	}
	for i := 0; i < nn; i++ {
		n := NackRange{First: binary.BigEndian.Uint32(b[off:]), Count: binary.BigEndian.Uint16(b[off+4:])}
		off += 6
		if n.Count == 0 {
			return 0, fmt.Errorf("%w: nack range %d is empty (first %d)", ErrMalformed, i, n.First)
		}
		a.Nacks[i] = n
	}
	return off, nil
}

// AddNack appends a NACK range, merging it into the last one when adjacent;
// it reports false when the frame has no room left.
func (a *AckFrame) AddNack(first uint32, count uint16) bool {
	if count == 0 {
		return true
	}
	if a.NumNacks > 0 {
		l := &a.Nacks[a.NumNacks-1]
		if l.First+uint32(l.Count) == first && uint32(l.Count)+uint32(count) <= 0xFFFF {
			l.Count += count
			return true
		}
	}
	if a.NumNacks == MaxNackRanges {
		return false
	}
	a.Nacks[a.NumNacks] = NackRange{First: first, Count: count}
	a.NumNacks++
	return true
}
