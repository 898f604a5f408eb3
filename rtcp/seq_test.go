package rtcp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSeqDiffAtWrapEdges(t *testing.T) {
	tests := []struct {
		name string
		a, b uint16
		want int
	}{
		{"zero_to_one", 0, 1, 1},
		{"max_to_zero_wraps_forward", 65535, 0, 1},
		{"zero_to_max_is_backward", 0, 65535, -1},
		{"half_minus_one", 0, 32767, 32767},
		{"half_is_negative", 0, 32768, -32768},
		{"32767_to_32768", 32767, 32768, 1},
		{"equal", 32768, 32768, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, SeqDiff(tc.a, tc.b))
			require.Equal(t, tc.want > 0, SeqLess(tc.a, tc.b))
		})
	}
}

func TestSeqUnwrapper(t *testing.T) {
	var u SeqUnwrapper
	require.EqualValues(t, 65534, u.Unwrap(65534))
	require.EqualValues(t, 65535, u.Unwrap(65535))
	require.EqualValues(t, 65536, u.Unwrap(0))
	require.EqualValues(t, 65535, u.Unwrap(65535), "late packet before the wrap")
	require.EqualValues(t, 65536+32767, u.Unwrap(32767))
	require.EqualValues(t, 65536+32768, u.Unwrap(32768))
	var v SeqUnwrapper
	require.EqualValues(t, 0, v.Unwrap(0))
	require.EqualValues(t, 65535, v.Unwrap(65535), "never below zero")
}
