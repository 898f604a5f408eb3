package fec

import (
	"errors"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// ReedSolomon is the k+m systematic Reed-Solomon code of
// github.com/klauspost/reedsolomon. Groups closed early by the delay bound
// have fewer data shards than configured, so one GF(2^8) coder is built
// per (k, m) pair on first use and cached; both ends build the same matrix
// for the same (k, m), which is all the wire format relies on.
//
// The zero value is ready to use. A ReedSolomon is not safe for concurrent
// use (the cache is unsynchronised).
type ReedSolomon struct {
	coders map[uint16]reedsolomon.Encoder
	shards [][]byte // scratch for Encode, reused so encoding allocates nothing
}

var _ Code = (*ReedSolomon)(nil)

// coderOptions trade peak speed for zero allocations. One goroutine:
// shards are a packet each, far below the size where splitting work across
// cores pays, and each session loop is already a goroutine. The GFNI and
// AVX2 code-generated kernels are faster (about 7-11 GB/s against 3 GB/s
// for 10+3 with 1200-byte shards on an AVX-512 machine) but allocate on
// every Encode inside reedsolomon v1.14 (an escaping matrix array, and a
// []byte put into a sync.Pool); the per-slice SSSE3 kernels allocate
// nothing and are still well above the 1 GB/s we need.
var coderOptions = []reedsolomon.Option{
	reedsolomon.WithMaxGoroutines(1),
	reedsolomon.WithGFNI(false),
	reedsolomon.WithAVXGFNI(false),
	reedsolomon.WithAVX2(false),
}

// Scheme returns SchemeReedSolomon.
func (*ReedSolomon) Scheme() Scheme { return SchemeReedSolomon }

// MaxParity returns MaxParityShards.
func (*ReedSolomon) MaxParity() int { return MaxParityShards }

func (r *ReedSolomon) coder(k, m int) (reedsolomon.Encoder, error) {
	key := uint16(k)<<8 | uint16(m)
	if c, ok := r.coders[key]; ok {
		return c, nil
	}
	c, err := reedsolomon.New(k, m, coderOptions...)
	if err != nil {
		return nil, fmt.Errorf("%w: reed-solomon k %d m %d: %w", ErrInvalidConfig, k, m, err)
	}
	if r.coders == nil {
		r.coders = make(map[uint16]reedsolomon.Encoder)
	}
	r.coders[key] = c
	return c, nil
}

// Encode computes the parity shards. All shards must have the same length.
func (r *ReedSolomon) Encode(data, parity [][]byte) error {
	if _, err := checkEncode(data, parity, MaxParityShards); err != nil {
		return err
	}
	k, m := len(data), len(parity)
	c, err := r.coder(k, m)
	if err != nil {
		return err
	}
	shards := append(append(r.shards[:0], data...), parity...)
	r.shards = shards
	err = c.Encode(shards)
	clear(shards) // do not pin the caller's buffers
	if err != nil {
		return fmt.Errorf("%w: reed-solomon encode: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Reconstruct recovers the missing data shards from any k present shards.
func (r *ReedSolomon) Reconstruct(shards [][]byte, k int) error {
	m := len(shards) - k
	if k < 1 || k > MaxDataShards || m < 1 || m > MaxParityShards {
		return fmt.Errorf("%w: reed-solomon group k %d m %d out of range", ErrInvalidConfig, k, m)
	}
	size := 0
	for i, s := range shards {
		if len(s) == 0 {
			continue
		}
		if size == 0 {
			size = len(s)
		} else if len(s) != size {
			return fmt.Errorf("%w: shard %d length %d != %d", ErrInvalidConfig, i, len(s), size)
		}
	}
	for i := 0; i < k; i++ {
		if len(shards[i]) == 0 && cap(shards[i]) < size {
			return fmt.Errorf("%w: missing shard %d has capacity %d < %d", ErrInvalidConfig, i, cap(shards[i]), size)
		}
	}
	c, err := r.coder(k, m)
	if err != nil {
		return err
	}
	if err := c.ReconstructData(shards); err != nil {
		if errors.Is(err, reedsolomon.ErrTooFewShards) {
			return fmt.Errorf("%w: reed-solomon k %d: %w", ErrTooFewShards, k, err)
		}
		return fmt.Errorf("%w: reed-solomon reconstruct: %w", ErrInvalidConfig, err)
	}
	return nil
}
