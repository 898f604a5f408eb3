package fec

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryLossPattern enumerates every subset of lost packets of one full
// group (2^11 for XOR(10), 2^13 for RS(10,3)), with packets of different
// lengths, and checks that exactly the patterns with at most m losses are
// rebuilt, byte for byte.
func TestEveryLossPattern(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scheme Scheme
		m      int
	}{
		{"xor_10", SchemeXOR, 1},
		{"rs_10_3", SchemeReedSolomon, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			pkts := randPackets(rng, 10, 0, 300)
			wire := encodeAll(t, EncoderConfig{Scheme: tc.scheme, K: 10, M: tc.m}, pkts, 0)
			require.Len(t, wire, 10+tc.m)
			n := len(wire)
			for mask := 0; mask < 1<<n; mask++ { // bit i set: packet i lost
				lost := bits.OnesCount(uint(mask))
				got, d := deliver(t, wire, func(i int, _ wirePkt) bool { return mask&(1<<i) == 0 })
				lostData := bits.OnesCount(uint(mask & 0x3FF))
				if lost <= tc.m {
					require.Len(t, got, lostData, "mask %#x", mask)
					for tag, p := range got {
						require.Equal(t, pkts[tag.Index], p, "mask %#x index %d", mask, tag.Index)
					}
				} else {
					require.Empty(t, got, "mask %#x: %d losses > m %d", mask, lost, tc.m)
				}
				require.Equal(t, uint64(len(got)), d.Stats().Recovered)
			}
		})
	}
}

// TestNamedLossPatterns spells out representative cases.
func TestNamedLossPatterns(t *testing.T) {
	for _, tc := range []struct {
		name        string
		scheme      Scheme
		m           int
		lost        []int // wire positions: 0..9 data, 10.. parity
		recoverable bool
	}{
		{"xor_no_loss", SchemeXOR, 1, nil, true},
		{"xor_first_data", SchemeXOR, 1, []int{0}, true},
		{"xor_last_data", SchemeXOR, 1, []int{9}, true},
		{"xor_parity_only", SchemeXOR, 1, []int{10}, true},
		{"xor_two_data", SchemeXOR, 1, []int{3, 4}, false},
		{"xor_data_and_parity", SchemeXOR, 1, []int{5, 10}, false},
		{"rs_three_data", SchemeReedSolomon, 3, []int{0, 5, 9}, true},
		{"rs_two_data_one_parity", SchemeReedSolomon, 3, []int{1, 2, 11}, true},
		{"rs_all_parity", SchemeReedSolomon, 3, []int{10, 11, 12}, true},
		{"rs_four_data", SchemeReedSolomon, 3, []int{0, 1, 2, 3}, false},
		{"rs_three_data_one_parity", SchemeReedSolomon, 3, []int{0, 1, 2, 12}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := randPackets(rand.New(rand.NewPCG(3, 4)), 10, 1, 1200)
			wire := encodeAll(t, EncoderConfig{Scheme: tc.scheme, K: 10, M: tc.m}, pkts, 0)
			lost := map[int]bool{}
			for _, i := range tc.lost {
				lost[i] = true
			}
			got, d := deliver(t, wire, func(i int, _ wirePkt) bool { return !lost[i] })
			lostData := 0
			for _, i := range tc.lost {
				if i < 10 {
					lostData++
					if tc.recoverable {
						require.Equal(t, pkts[i], got[wire[i].tag])
					}
				}
			}
			if tc.recoverable {
				require.Len(t, got, lostData)
				require.Equal(t, uint64(lostData), d.Stats().Recovered)
			} else {
				require.Empty(t, got)
			}
		})
	}
}

func TestCodeArgumentErrors(t *testing.T) {
	buf := func(n, size int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = make([]byte, size)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		code Code
		run  func(c Code) error
		want string
	}{
		{"xor_two_parity", &XOR{}, func(c Code) error { return c.Encode(buf(3, 8), buf(2, 8)) }, "m 2 outside [1, 1]"},
		{"rs_no_data", &ReedSolomon{}, func(c Code) error { return c.Encode(nil, buf(2, 8)) }, "k 0 outside"},
		{"rs_length_mismatch", &ReedSolomon{}, func(c Code) error { return c.Encode(buf(3, 8), buf(1, 9)) }, "parity shard 0 length 9 != 8"},
		{"rs_empty_shards", &ReedSolomon{}, func(c Code) error { return c.Encode(buf(3, 0), buf(1, 0)) }, "shard 0 is empty"},
		{"xor_two_missing", &XOR{}, func(c Code) error {
			s := buf(4, 8)
			s[0], s[1] = s[0][:0], s[1][:0]
			return c.Reconstruct(s, 3)
		}, "both missing"},
		{"rs_too_few", &ReedSolomon{}, func(c Code) error {
			s := buf(5, 8)
			s[0], s[1], s[2] = s[0][:0], s[1][:0], s[2][:0]
			return c.Reconstruct(s, 3)
		}, "too few shards"},
		{"rs_no_capacity", &ReedSolomon{}, func(c Code) error {
			s := buf(5, 8)
			s[0] = nil
			return c.Reconstruct(s, 3)
		}, "capacity 0 < 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(tc.code)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewCode(t *testing.T) {
	for _, s := range []Scheme{SchemeXOR, SchemeReedSolomon} {
		c, err := NewCode(s)
		require.NoError(t, err)
		require.Equal(t, s, c.Scheme())
	}
	_, err := NewCode(9)
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Equal(t, "scheme(9)", fmt.Sprint(Scheme(9)))
}
