package rudp

import (
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReceivedPackets(t *testing.T) {
	now := time.Unix(0, 0)
	t.Run("hole_filled_by_reordered_packet", func(t *testing.T) {
		var r ReceivedPackets
		for _, pn := range []uint64{1, 2, 4, 5} {
			require.Equal(t, PacketNew, r.Add(pn, now, 0))
		}
		require.Len(t, r.ranges, 2)
		require.Equal(t, PacketNew, r.Add(3, now, 0))
		require.Equal(t, []pnRange{{1, 5}}, r.ranges)
		require.Equal(t, PacketDuplicate, r.Add(3, now, 0))
	})
	t.Run("fill_encodes_ranges_newest_first", func(t *testing.T) {
		var r ReceivedPackets
		for _, pn := range []uint64{10, 11, 14, 20, 21, 22} {
			r.Add(pn, now, uint32(pn))
		}
		var a AckFrame
		require.True(t, r.Fill(&a))
		require.Equal(t, uint32(22), a.LargestPN)
		require.Equal(t, 3, a.NumRanges)
		require.Equal(t, AckRange{20, 22}, a.Ranges[0])
		require.Equal(t, AckRange{14, 14}, a.Ranges[1])
		require.Equal(t, AckRange{10, 11}, a.Ranges[2])
		var b AckFrame
		_, err := b.Unmarshal(a.AppendTo(nil))
		require.NoError(t, err)
		require.Equal(t, a, b)
		_, _, ts, _ := r.Largest()
		require.Equal(t, uint32(22), ts)
	})
	t.Run("bounded_memory", func(t *testing.T) {
		var r ReceivedPackets
		for pn := uint64(0); pn < 10000; pn += 2 {
			r.Add(pn, now, 0)
		}
		require.LessOrEqual(t, len(r.ranges), maxTrackedRanges)
		require.Equal(t, PacketTooOld, r.Add(1, now, 0))
	})
	t.Run("random_matches_set", func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		var r ReceivedPackets
		seen := map[uint64]bool{}
		for i := 0; i < 2000; i++ {
			pn := uint64(rng.Intn(120))
			st := r.Add(pn, now, 0)
			if seen[pn] {
				require.Equal(t, PacketDuplicate, st)
			} else {
				require.Equal(t, PacketNew, st)
			}
			seen[pn] = true
			for j := 1; j < len(r.ranges); j++ {
				require.Greater(t, r.ranges[j].lo, r.ranges[j-1].hi+1)
			}
		}
	})
}
