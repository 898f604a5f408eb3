package rtp

import (
	"encoding/binary"
	"fmt"
)

// Descriptor is skiff's frame descriptor, carried in every media packet as
// an RFC 8285 one-byte header extension (element ID DefaultExtensionID) so
// the receiver can reassemble frames, know their kind and priority, and
// tell whether their reference arrived:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           frame number        |          packet index         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          packet count         |     kind      |   priority    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   reference distance (0=none) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The frame number counts transmitted frames (a frame dropped before its
// first packet left takes no number), modulo 2^16. The reference distance
// is this frame's number minus the referenced frame's number.
// The zero value is frame 0, packet 0 of 0 (invalid: Count must be ≥ 1).
type Descriptor struct {
	Frame    uint16
	Index    uint16
	Count    uint16
	Kind     Kind
	Priority uint8
	RefDist  uint16
}

// DescriptorSize is the descriptor's encoded size in bytes.
const DescriptorSize = 10

// DefaultExtensionID is the one-byte header extension ID used for the
// descriptor unless configured otherwise.
const DefaultExtensionID = 1

// MarshalSize returns DescriptorSize.
func (d Descriptor) MarshalSize() int { return DescriptorSize }

// AppendTo appends the encoded descriptor to b.
func (d Descriptor) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, d.Frame)
	b = binary.BigEndian.AppendUint16(b, d.Index)
	b = binary.BigEndian.AppendUint16(b, d.Count)
	b = append(b, byte(d.Kind), d.Priority)
	return binary.BigEndian.AppendUint16(b, d.RefDist)
}

// Unmarshal decodes a descriptor from b and returns the bytes consumed.
func (d *Descriptor) Unmarshal(b []byte) (int, error) {
	if len(b) < DescriptorSize {
		return 0, fmt.Errorf("%w: %d bytes, want %d", ErrDescriptor, len(b), DescriptorSize)
	}
	d.Frame = binary.BigEndian.Uint16(b)
	d.Index = binary.BigEndian.Uint16(b[2:])
	d.Count = binary.BigEndian.Uint16(b[4:])
	d.Kind = Kind(b[6])
	d.Priority = b[7]
	d.RefDist = binary.BigEndian.Uint16(b[8:])
	switch {
	case d.Count == 0:
		return 0, fmt.Errorf("%w: packet count 0", ErrDescriptor)
	case d.Index >= d.Count:
		return 0, fmt.Errorf("%w: packet index %d ≥ count %d", ErrDescriptor, d.Index, d.Count)
	case d.Kind > KindB:
		return 0, fmt.Errorf("%w: kind %d", ErrDescriptor, d.Kind)
	}
	return DescriptorSize, nil
}
