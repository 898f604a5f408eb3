package fec

import (
	"encoding/binary"
	"fmt"
)

// RepairHeaderSize is the encoded size of a RepairHeader.
const RepairHeaderSize = 10

// RepairHeader precedes the coded shard in every repair packet. It tells
// the receiver which group the shard belongs to, the group's shape (k data
// shards, m parity shards), where this shard sits in it, and the length of
// every shard of the group.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Group ID                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    Scheme     |     Index     |       K       |       M       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Shard Length         |  shard (Shard Length bytes) ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Group ID counts groups (wrapping, compared in serial-number arithmetic).
// Index is the shard's position in the group: data shards are 0..K-1
// (they travel as source packets with a SourceTag), parity shards are
// K..K+M-1. K is the number of data shards actually in the group, which is
// below the configured k when the delay bound closed the group early.
// Shard Length is the length of every shard of the group: the longest
// source packet plus the 2-byte length prefix. Each coded data shard is
// [len uint16][packet][zero padding], so packets of different lengths
// share a group and come back at their own length.
//
// The zero value is not a valid header (scheme 0). A RepairHeader is a
// plain value; it is safe to copy.
type RepairHeader struct {
	GroupID  uint32
	Scheme   Scheme
	Index    uint8
	K        uint8
	M        uint8
	ShardLen uint16
}

// MarshalSize returns RepairHeaderSize.
func (h *RepairHeader) MarshalSize() int { return RepairHeaderSize }

// AppendTo appends the encoded header to b. It does not validate; call
// Validate first when the header was not built by an Encoder.
func (h *RepairHeader) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, h.GroupID)
	b = append(b, byte(h.Scheme), h.Index, h.K, h.M)
	return binary.BigEndian.AppendUint16(b, h.ShardLen)
}

// Unmarshal decodes a header from the start of b, validates it and
// returns the number of bytes read. It never allocates on success; errors
// wrap ErrMalformed.
func (h *RepairHeader) Unmarshal(b []byte) (int, error) {
	if len(b) < RepairHeaderSize {
		return 0, fmt.Errorf("%w: repair header is %d bytes, need %d", ErrMalformed, len(b), RepairHeaderSize)
	}
	var v RepairHeader
	v.GroupID = binary.BigEndian.Uint32(b)
	v.Scheme = Scheme(b[4])
	v.Index, v.K, v.M = b[5], b[6], b[7]
	v.ShardLen = binary.BigEndian.Uint16(b[8:])
	if err := v.Validate(); err != nil {
		return 0, err
	}
	*h = v
	return RepairHeaderSize, nil
}

// Validate checks the header's fields against the protocol limits and each
// other. The error wraps ErrMalformed and names the field and its value.
func (h *RepairHeader) Validate() error {
	switch h.Scheme {
	case SchemeXOR:
		if h.M != 1 {
			return fmt.Errorf("%w: repair group %d: xor m %d, must be 1", ErrMalformed, h.GroupID, h.M)
		}
	case SchemeReedSolomon:
		if h.M < 1 || h.M > MaxParityShards {
			return fmt.Errorf("%w: repair group %d: m %d outside [1, %d]", ErrMalformed, h.GroupID, h.M, MaxParityShards)
		}
	default:
		return fmt.Errorf("%w: repair group %d: scheme %d unknown", ErrMalformed, h.GroupID, uint8(h.Scheme))
	}
	if h.K < 1 || h.K > MaxDataShards {
		return fmt.Errorf("%w: repair group %d: k %d outside [1, %d]", ErrMalformed, h.GroupID, h.K, MaxDataShards)
	}
	if int(h.Index) < int(h.K) || int(h.Index) >= int(h.K)+int(h.M) {
		return fmt.Errorf("%w: repair group %d: index %d outside parity range [%d, %d)", ErrMalformed, h.GroupID, h.Index, h.K, int(h.K)+int(h.M))
	}
	if h.ShardLen < LengthPrefixSize {
		return fmt.Errorf("%w: repair group %d: shard length %d, need >= %d", ErrMalformed, h.GroupID, h.ShardLen, LengthPrefixSize)
	}
	return nil
}

// ParseRepair splits a repair packet into its validated header and its
// shard, which aliases b. It fails, wrapping ErrMalformed, when the shard
// is not exactly ShardLen bytes.
func ParseRepair(b []byte) (RepairHeader, []byte, error) {
	var h RepairHeader
	n, err := h.Unmarshal(b)
	if err != nil {
		return RepairHeader{}, nil, err
	}
	shard := b[n:]
	if len(shard) != int(h.ShardLen) {
		return RepairHeader{}, nil, fmt.Errorf("%w: repair group %d index %d: shard is %d bytes, header says %d",
			ErrMalformed, h.GroupID, h.Index, len(shard), h.ShardLen)
	}
	return h, shard, nil
}
