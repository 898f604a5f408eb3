package rudp

import (
	"encoding/binary"
	"fmt"
)

// DataFrameHeaderSize is the encoded size of a DataFrame without payload.
const DataFrameHeaderSize = 8

// FrameKind says which delivery service a data frame belongs to.
type FrameKind uint8

// Frame kinds. The reliable kinds share one reliable sequence space (flow
// controlled, acknowledged, retransmitted); the unreliable kinds share a
// second one used only for ordering and reassembly.
const (
	KindStream              FrameKind = 1 // bytes of the ordered byte stream
	KindFin                 FrameKind = 2 // end of the stream (graceful close); empty
	KindReliableOrdered     FrameKind = 3 // message fragment, delivered in order
	KindReliableUnordered   FrameKind = 4 // message fragment, delivered when complete
	KindUnreliableSequenced FrameKind = 5 // message fragment; stale messages dropped
	KindUnreliable          FrameKind = 6 // message fragment; any order, may be lost
	maxKind                           = KindUnreliable
)

// Reliable reports whether frames of this kind are retransmitted.
func (k FrameKind) Reliable() bool { return k >= KindStream && k <= KindReliableUnordered }

// IsMessage reports whether the kind carries message fragments.
func (k FrameKind) IsMessage() bool { return k >= KindReliableOrdered && k <= maxKind }

// Data frame flags.
const (
	FrameFirst uint8 = 1 << 0 // first fragment of a message
	FrameLast  uint8 = 1 << 1 // last fragment of a message
)

// DataFrame is the body of a TypeData packet. Payload aliases the decoded
// buffer. The zero value is not valid (kind 0).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Kind (8)    |  Flags (8)    |     Fragment Index (16)       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence (32)                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Payload (to the checksum) ...              |
//
// Sequence is the reliable sequence number for reliable kinds, the
// unreliable one otherwise. A message's fragments take consecutive
// sequence numbers; Fragment Index is the fragment's position, so the
// message's first sequence is Sequence − Fragment Index. Stream and Fin
// frames have both First and Last set and index 0.
type DataFrame struct {
	Kind      FrameKind
	Flags     uint8
	FragIndex uint16
	Seq       uint32
	Payload   []byte
}

// MarshalSize returns the encoded size.
func (d *DataFrame) MarshalSize() int { return DataFrameHeaderSize + len(d.Payload) }

// AppendTo appends the encoded frame.
func (d *DataFrame) AppendTo(b []byte) []byte {
	b = append(b, uint8(d.Kind), d.Flags)
	b = binary.BigEndian.AppendUint16(b, d.FragIndex)
	b = binary.BigEndian.AppendUint32(b, d.Seq)
	return append(b, d.Payload...)
}

// Unmarshal decodes the frame; the payload is the rest of b.
func (d *DataFrame) Unmarshal(b []byte) (int, error) {
	if len(b) < DataFrameHeaderSize {
		return 0, fmt.Errorf("%w: data frame needs %d bytes, have %d", ErrTruncated, DataFrameHeaderSize, len(b))
	}
	k := FrameKind(b[0])
	if k == 0 || k > maxKind {
		return 0, fmt.Errorf("%w: data frame kind %d", ErrMalformed, b[0])
	}
	f := b[1]
	if f&^(FrameFirst|FrameLast) != 0 {
		return 0, fmt.Errorf("%w: data frame flags %#x", ErrMalformed, f)
	}
	idx := binary.BigEndian.Uint16(b[2:])
	if f&FrameFirst != 0 && idx != 0 {
		return 0, fmt.Errorf("%w: first fragment has index %d", ErrMalformed, idx)
	}
	if (k == KindStream || k == KindFin) && (f != FrameFirst|FrameLast) {
		return 0, fmt.Errorf("%w: %d frame flags %#x (want first|last)", ErrMalformed, k, f)
	}
	if k == KindFin && len(b) > DataFrameHeaderSize {
		return 0, fmt.Errorf("%w: fin frame carries %d payload bytes", ErrMalformed, len(b)-DataFrameHeaderSize)
	}
	d.Kind, d.Flags, d.FragIndex = k, f, idx
	d.Seq = binary.BigEndian.Uint32(b[4:])
	d.Payload = b[DataFrameHeaderSize:]
	return len(b), nil
}
