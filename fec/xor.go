package fec

import (
	"crypto/subtle"
	"fmt"
)

// XOR is the single-parity code: the parity shard is the XOR of the k data
// shards, so any one missing data shard is the XOR of all the others and
// the parity. It uses crypto/subtle.XORBytes, which is vectorised on the
// common architectures.
//
// The zero value is ready to use. XOR holds no state and is safe for
// concurrent use.
type XOR struct{}

var _ Code = (*XOR)(nil)

// Scheme returns SchemeXOR.
func (*XOR) Scheme() Scheme { return SchemeXOR }

// MaxParity returns 1.
func (*XOR) MaxParity() int { return 1 }

// Encode writes the XOR of data into parity[0]; len(parity) must be 1.
func (*XOR) Encode(data, parity [][]byte) error {
	if _, err := checkEncode(data, parity, 1); err != nil {
		return err
	}
	p := parity[0]
	copy(p, data[0])
	for _, d := range data[1:] {
		subtle.XORBytes(p, p, d)
	}
	return nil
}

// Reconstruct recovers at most one missing data shard from the others and
// the parity shard shards[k]. It returns an error wrapping ErrTooFewShards
// when more than one shard of the group is missing.
func (*XOR) Reconstruct(shards [][]byte, k int) error {
	if k < 1 || k > MaxDataShards || len(shards) != k+1 {
		return fmt.Errorf("%w: xor group with k %d has %d shards, want k+1", ErrInvalidConfig, k, len(shards))
	}
	missing, size := -1, 0
	for i, s := range shards {
		if len(s) == 0 {
			if missing >= 0 {
				return fmt.Errorf("%w: xor shards %d and %d both missing", ErrTooFewShards, missing, i)
			}
			missing = i
			continue
		}
		if size == 0 {
			size = len(s)
		} else if len(s) != size {
			return fmt.Errorf("%w: shard %d length %d != %d", ErrInvalidConfig, i, len(s), size)
		}
	}
	if missing < 0 || missing == k {
		return nil // nothing to do, or only the parity is missing
	}
	if cap(shards[missing]) < size {
		return fmt.Errorf("%w: missing shard %d has capacity %d < %d", ErrInvalidConfig, missing, cap(shards[missing]), size)
	}
	out := shards[missing][:size]
	first := true
	for i, s := range shards {
		if i == missing {
			continue
		}
		if first {
			copy(out, s)
			first = false
			continue
		}
		subtle.XORBytes(out, out, s)
	}
	shards[missing] = out
	return nil
}
