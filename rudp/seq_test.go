package rudp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnwrapPN(t *testing.T) {
	const w = uint64(1) << 32
	tests := []struct {
		name string
		ref  uint64
		v    uint32
		want uint64
	}{
		{"zero_from_zero", 0, 0, 0},
		{"small_ahead", 10, 12, 12},
		{"small_behind", 10, 7, 7},
		{"behind_zero_is_first_window", 5, 0xFFFFFFF0, 0xFFFFFFF0},
		{"ahead_up_to_2^31-1", 0, 1<<31 - 1, 1<<31 - 1},
		{"at_2^31_from_zero_is_first_window", 0, 1 << 31, 1 << 31},
		{"at_2^31_from_2^31", 1 << 31, 1 << 31, 1 << 31},
		{"max_uint32_then_wrap_to_0", w - 1, 0, w},
		{"max_uint32_then_wrap_to_5", w - 1, 5, w + 5},
		{"just_wrapped_late_packet", w + 2, 0xFFFFFFFE, w - 2},
		{"max_uint32_exact", w - 1, 0xFFFFFFFF, w - 1},
		{"second_window_ahead", 3*w + 100, 200, 3*w + 200},
		{"second_window_behind_across_wrap", 3*w + 1, 0xFFFFFFFF, 3*w - 1},
		{"half_window_behind", 1 << 32, 1 << 31, 1<<32 - 1<<31},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, UnwrapPN(tc.ref, tc.v))
		})
	}
}

func TestUnwrapPNRoundTrip(t *testing.T) {
	for _, ref := range []uint64{0, 1 << 31, 1<<32 - 1, 1 << 32, 5<<32 + 77} {
		for _, d := range []int64{-(1 << 31), -1000, -1, 0, 1, 1000, 1<<31 - 1} {
			x := int64(ref) + d
			if x < 0 {
				continue
			}
			require.Equal(t, uint64(x), UnwrapPN(ref, uint32(x)), "ref %d d %d", ref, d)
		}
	}
}
