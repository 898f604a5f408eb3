package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fates builds a history of ack-eliciting transmissions sent 20 ms apart
// from a fate string ('a' acknowledged, 'l' lost, 'f' still in flight,
// '.' a pure ack, not ack-eliciting) and settles it at the end.
func fates(t0 time.Time, fs string) (*SentHistory, time.Time) {
	var h SentHistory
	for i, c := range fs {
		p := SentPacket{Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Size: 100,
			AckEliciting: c != '.', InFlight: c != '.'}
		h.Add(p)
		q := h.Get(h.NextPN() - 1)
		switch c {
		case 'a':
			h.MarkAcked(q)
		case 'l':
			h.MarkLost(q)
		}
	}
	return &h, t0.Add(time.Duration(len(fs)) * 20 * time.Millisecond)
}

func TestBurstEstimator(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const wait = 30 * time.Millisecond
	for _, tc := range []struct {
		name         string
		fates        string
		pairs, both  float64
		copies       int
		cursorBefore int // settle stops before this packet (-1: settles all)
	}{
		{"no_loss_no_evidence", "aaaaaaaa", 0, 0, 4, -1},
		{"isolated_losses_two_copies", "alaaalaaalaaalaaalaaalaaalaaalaaalaa", 9, 0, 2, -1},
		{"bursts_of_three_many_copies", "alllaaalllaaalllaaalllaaalllaaalllaaalllaa", 21, 14, 6, -1},
		{"bursts_of_two", "allaaaallaaaallaaaallaaaallaaaallaaaallaaa", 14, 7, 4, -1},
		{"pure_acks_between_do_not_count", "al.l.l.la", 4, 3, 6, -1},
		{"in_flight_stops_the_scan", "alaafll", 1, 0, 3, 4},
		{"loss_declared_too_recently_waits", "aaal", 0, 0, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, now := fates(t0, tc.fates)
			var b burstEstimator
			end := now.Add(wait)
			if tc.cursorBefore >= 0 {
				end = now.Add(-20*time.Millisecond + wait - time.Millisecond) // the last packet's wait not over
			}
			b.settle(h, end, wait)
			require.Equal(t, tc.pairs, b.pairs, "pairs after a loss")
			require.Equal(t, tc.both, b.both, "losses after a loss")
			require.Equal(t, tc.copies, b.copies())
			if tc.cursorBefore >= 0 {
				require.Equal(t, uint64(tc.cursorBefore), b.cursor)
			}
		})
	}
	t.Run("pruned_history_resets_the_previous_fate", func(t *testing.T) {
		h, now := fates(t0, "lf")
		var b burstEstimator
		b.settle(h, now.Add(wait), wait)
		require.Equal(t, uint64(1), b.cursor)
		h.Prune(func(*SentPacket) bool { return true }) // the session dropped it unsettled
		h.Add(SentPacket{Time: now, AckEliciting: true})
		h.MarkLost(h.Get(h.NextPN() - 1))
		b.settle(h, now.Add(wait), wait)
		require.Zero(t, b.pairs, "a loss after a gap in the history pairs with nothing")
	})
	t.Run("counts_halve_past_the_maximum", func(t *testing.T) {
		var b burstEstimator
		for i := 0; i < 200; i++ {
			h, now := fates(t0, "ll")
			b.cursor, b.prevLost = 0, 0
			b.settle(h, now.Add(wait), wait)
		}
		require.Less(t, b.pairs, float64(burstMaxPairs))
		require.Equal(t, b.pairs, b.both)
	})
}
