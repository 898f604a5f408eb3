package rtcp

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDeterministicInterval(t *testing.T) {
	tests := []struct {
		name string
		p    IntervalParams
		want time.Duration
	}{
		{"zero_value_is_5s", IntervalParams{}, 5 * time.Second},
		{"initial_halves_min", IntervalParams{Initial: true}, 2500 * time.Millisecond},
		{"reduced_min_1mbps", IntervalParams{Members: 2, SessionBandwidth: 1e6, AvgRTCPSize: 100, ReducedMinimum: true}, 360 * time.Millisecond},
		// 1000 members, 64 kbit/s: RTCP 400 B/s; receivers get 300 B/s for 999
		// members of 100 B: 333 s.
		{"large_group_receiver", IntervalParams{Members: 1000, Senders: 1, SessionBandwidth: 64000, AvgRTCPSize: 120}, time.Duration(120 * 999 / 300.0 * float64(time.Second))},
		// The one sender gets 100 B/s: 1.2 s, below the 5 s minimum.
		{"large_group_sender_hits_min", IntervalParams{Members: 1000, Senders: 1, WeSent: true, SessionBandwidth: 64000, AvgRTCPSize: 120}, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DeterministicInterval(tc.p)
			require.InDelta(t, tc.want, got, float64(time.Millisecond))
		})
	}
}

func TestTransmissionIntervalRandomised(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	p := IntervalParams{Members: 2, SessionBandwidth: 1e6, ReducedMinimum: true}
	td := DeterministicInterval(p)
	lo := time.Duration(float64(td) * 0.5 / compensation)
	hi := time.Duration(float64(td) * 1.5 / compensation)
	var sum time.Duration
	const n = 2000
	for range n {
		d := TransmissionInterval(p, rng)
		require.GreaterOrEqual(t, d, lo)
		require.LessOrEqual(t, d, hi)
		sum += d
	}
	mean := float64(sum) / n
	require.InDelta(t, float64(td)/compensation, mean, float64(td)*0.05)
	require.Equal(t, time.Duration(float64(td)/(math.E-1.5)), TransmissionInterval(p, nil))
	// Same seed, same sequence.
	a := TransmissionInterval(p, rand.New(rand.NewSource(7)))
	b := TransmissionInterval(p, rand.New(rand.NewSource(7)))
	require.Equal(t, a, b)
}

func TestUpdateAvgRTCPSize(t *testing.T) {
	require.EqualValues(t, 100, UpdateAvgRTCPSize(0, 100))
	require.InDelta(t, 100+100.0/16, UpdateAvgRTCPSize(100, 200), 1e-9)
}
