package fec

import (
	"fmt"
)

// Scheme identifies an erasure code on the wire. The zero value is not a
// valid scheme; it means "unset" in configurations.
type Scheme uint8

// The codes this package implements.
const (
	// SchemeXOR is one parity shard, the XOR of the k data shards.
	SchemeXOR Scheme = 1
	// SchemeReedSolomon is k data + m parity shards over GF(2^8)
	// (github.com/klauspost/reedsolomon, Vandermonde-derived systematic
	// matrix); any k of the k+m recover the data.
	SchemeReedSolomon Scheme = 2
)

// String returns "xor", "rs" or "scheme(N)".
func (s Scheme) String() string {
	switch s {
	case SchemeXOR:
		return "xor"
	case SchemeReedSolomon:
		return "rs"
	}
	return fmt.Sprintf("scheme(%d)", uint8(s))
}

// Protocol limits, checked on every header the decoder reads.
const (
	// MaxDataShards is the largest k a group may have.
	MaxDataShards = 64
	// MaxParityShards is the largest m a group may have.
	MaxParityShards = 16
	// LengthPrefixSize is the size of the big-endian length that precedes
	// each source packet inside its coded shard.
	LengthPrefixSize = 2
	// MaxShardSize is the largest shard (length prefix + packet + padding)
	// the wire can describe.
	MaxShardSize = 0xFFFF
)

// Code is an erasure code over equal-length shards. Implementations keep
// scratch state, so a Code is not safe for concurrent use; the zero values
// of the implementations are ready to use.
type Code interface {
	// Scheme is the identifier written into repair headers.
	Scheme() Scheme
	// MaxParity is the largest number of parity shards Encode accepts.
	MaxParity() int
	// Encode computes len(parity) parity shards from len(data) data
	// shards. All shards must have the same non-zero length; parity shards
	// are overwritten.
	Encode(data, parity [][]byte) error
	// Reconstruct recovers the missing data shards of a group in place.
	// shards holds the k data shards followed by the parity shards; a
	// shard of length 0 is missing. Missing data shards must have capacity
	// for the shard length (they are resliced, never allocated). Missing
	// parity shards are left missing.
	Reconstruct(shards [][]byte, k int) error
}

// NewCode returns a fresh Code for scheme.
func NewCode(s Scheme) (Code, error) {
	switch s {
	case SchemeXOR:
		return &XOR{}, nil
	case SchemeReedSolomon:
		return &ReedSolomon{}, nil
	}
	return nil, fmt.Errorf("%w: scheme %d unknown", ErrInvalidConfig, uint8(s))
}

// checkShards verifies the common Encode preconditions and returns the
// shard length.
func checkEncode(data, parity [][]byte, maxParity int) (int, error) {
	k, m := len(data), len(parity)
	if k < 1 || k > MaxDataShards {
		return 0, fmt.Errorf("%w: k %d outside [1, %d]", ErrInvalidConfig, k, MaxDataShards)
	}
	if m < 1 || m > maxParity {
		return 0, fmt.Errorf("%w: m %d outside [1, %d]", ErrInvalidConfig, m, maxParity)
	}
	size := len(data[0])
	if size == 0 {
		return 0, fmt.Errorf("%w: shard 0 is empty", ErrInvalidConfig)
	}
	for i, d := range data {
		if len(d) != size {
			return 0, fmt.Errorf("%w: data shard %d length %d != %d", ErrInvalidConfig, i, len(d), size)
		}
	}
	for i, p := range parity {
		if len(p) != size {
			return 0, fmt.Errorf("%w: parity shard %d length %d != %d", ErrInvalidConfig, i, len(p), size)
		}
	}
	return size, nil
}
