package fec

import (
	"encoding/binary"
	"fmt"
)

// SourceTagSize is the encoded size of a SourceTag.
const SourceTagSize = 5

// SourceTag marks a FEC-protected data packet with its place in a group,
// so the receiver can file it as data shard Index of group GroupID.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Group ID                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Index     |
//	+-+-+-+-+-+-+-+-+
//
// The group's k is not carried here (it is not known until the group
// closes); the repair header carries it. The zero value is data shard 0 of
// group 0. A SourceTag is a plain value.
type SourceTag struct {
	GroupID uint32
	Index   uint8
}

// MarshalSize returns SourceTagSize.
func (t *SourceTag) MarshalSize() int { return SourceTagSize }

// AppendTo appends the encoded tag to b.
func (t *SourceTag) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, t.GroupID)
	return append(b, t.Index)
}

// Unmarshal decodes a tag from the start of b and returns the bytes read.
// An Index of MaxDataShards or more is rejected (wrapping ErrMalformed).
func (t *SourceTag) Unmarshal(b []byte) (int, error) {
	if len(b) < SourceTagSize {
		return 0, fmt.Errorf("%w: source tag is %d bytes, need %d", ErrMalformed, len(b), SourceTagSize)
	}
	idx := b[4]
	if idx >= MaxDataShards {
		return 0, fmt.Errorf("%w: source tag group %d: index %d, max %d", ErrMalformed, binary.BigEndian.Uint32(b), idx, MaxDataShards-1)
	}
	t.GroupID = binary.BigEndian.Uint32(b)
	t.Index = idx
	return SourceTagSize, nil
}
