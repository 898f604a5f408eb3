package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInflightHiFromLoss(t *testing.T) {
	for _, tc := range []struct {
		name       string
		txInflight int
		lostSince  int64
		want       int
	}{
		// 100 packets were in flight before the judged one, 2 of them
		// lost: exactly 2%, so the bound is that flight.
		{"prior_loss_at_threshold", 101 * mss, 3 * mss, 100 * mss},
		// Less lost before it: the threshold is crossed further on.
		{"prior_loss_below_threshold", 101 * mss, 2 * mss, 100*mss + 1020}, // + (2 − 1) segments / 0.98
		// More lost before it: the threshold was crossed earlier.
		{"prior_loss_above_threshold", 101 * mss, 5 * mss, 100*mss - 2041}, // + (2 − 4) segments / 0.98
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, inflightHiFromLoss(tc.txInflight, mss, tc.lostSince), 2)
		})
	}
}

// probeBWSim is a BBR in PROBE_BW after 2 s on a 10 Mbit/s, 40 ms link
// (BDP 51 kB, cwnd ~105 kB, no inflight bound yet).
func probeBWSim(t *testing.T) (*BBR, *linkSim) {
	t.Helper()
	b := newTestBBR(nil)
	s := newLinkSim(b, 10e6, 40*time.Millisecond)
	s.run(2*time.Second, nil)
	require.Equal(t, "probe_bw", b.State())
	require.Zero(t, b.bound.hi)
	return b, s
}

func TestBBRInflightBoundVerdict(t *testing.T) {
	probing := func(b *BBR) bool { return b.PacingGain() > 1 }
	cruising := func(b *BBR) bool { return b.PacingGain() == 1 }
	for _, tc := range []struct {
		name  string
		queue time.Duration   // extra RTT from 300 ms before the losses on
		when  func(*BBR) bool // which packets may be dropped
		drop  func(n int) bool
		bound bool
	}{
		{"probe_burst_with_standing_queue_sets_bound", 20 * time.Millisecond, probing, func(n int) bool { return n < 5 }, true},
		{"probe_burst_without_queue_is_random_loss", 0, probing, func(n int) bool { return n < 5 }, false},
		{"cruise_burst_leaves_bound", 20 * time.Millisecond, cruising, func(n int) bool { return n < 5 }, false},
		{"two_losses_are_too_few", 20 * time.Millisecond, probing, func(n int) bool { return n < 2 }, false},
		{"loss_under_2pct_with_queue", 20 * time.Millisecond, probing, func(n int) bool { return n%70 == 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, s := probeBWSim(t)
			s.extra = tc.queue
			s.run(300*time.Millisecond, nil)
			require.Equal(t, tc.queue > 0, b.standingQueue())
			n := 0
			s.drop = func() bool {
				if !tc.when(b) {
					return false
				}
				n++
				return tc.drop(n - 1)
			}
			cwnd := b.cwnd
			s.run(time.Second, nil) // two PROBE_BW cycles
			require.Positive(t, n, "packets sent in the phase")
			if !tc.bound {
				require.Zero(t, b.bound.hi)
				return
			}
			// The bound is the flight when the burst began: between the
			// pipe and the cwnd.
			require.Greater(t, b.bound.hi, b.bdp(1))
			require.LessOrEqual(t, b.bound.hi, cwnd)
		})
	}
}

func TestBBRInflightLimit(t *testing.T) {
	b, _ := probeBWSim(t)
	floor := b.targetInflight(1)
	for _, tc := range []struct {
		name    string
		mode    bbrMode
		gain    float64
		probing bool
		hi      int
		want    int
	}{
		{"no_bound", bbrProbeBW, 1, false, 0, 0},
		{"cruise_keeps_headroom", bbrProbeBW, 1, false, 2 * floor, int(0.85 * float64(2*floor))},
		{"drain_phase_keeps_headroom", bbrProbeBW, 0.75, true, 2 * floor, int(0.85 * float64(2*floor))},
		{"probe_fills_to_bound", bbrProbeBW, 1.25, true, 2 * floor, 2 * floor},
		{"quiet_probe_keeps_headroom", bbrProbeBW, 1.25, false, 2 * floor, int(0.85 * float64(2*floor))},
		{"never_below_a_bdp", bbrProbeBW, 1, false, floor / 2, floor},
		{"startup_unbound", bbrStartup, bbrHighGain, false, floor, 0},
		{"drain_unbound", bbrDrain, bbrDrainGain, false, floor, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.mode, b.pacingGain, b.bound.probing, b.bound.hi = tc.mode, tc.gain, tc.probing, tc.hi
			require.Equal(t, tc.want, b.inflightLimit())
			if tc.want > 0 {
				require.Equal(t, min(b.cwnd, tc.want), b.CongestionWindow())
			}
		})
	}
}

func TestBBRInflightBoundReprobe(t *testing.T) {
	b, _ := probeBWSim(t)
	const hi = 200 * mss
	b.bound = inflightBound{hi: hi, growth: mss, quiet: boundQuietProbes, lowered: true}
	// After a verdict, boundQuietProbes 1.25 phases probe the rate under
	// the cruise bound and do not raise it.
	for range boundQuietProbes {
		b.startBoundProbe()
		require.False(t, b.bound.probing)
		b.bound.probeHit = true
		b.endBoundProbe()
		require.Equal(t, hi, b.bound.hi)
	}
	// Then each probe that fills up to the bound without a verdict raises
	// it by 1, 2, 4, ... segments, at most a quarter of it.
	want := hi
	for _, step := range []int{1, 2, 4, 8, 16, 32, 64} {
		b.startBoundProbe()
		require.True(t, b.bound.probing)
		b.bound.probeHit = true
		b.endBoundProbe()
		want += min(step*mss, want/boundMaxGrowth)
		require.Equal(t, want, b.bound.hi, "step %d", step)
	}
	// A probe that did not reach the bound, or drew a verdict, does not.
	for _, tc := range []struct{ hit, lowered bool }{{false, false}, {true, true}} {
		b.startBoundProbe()
		b.bound.probeHit, b.bound.lowered = tc.hit, tc.lowered
		b.endBoundProbe()
		require.Equal(t, want, b.bound.hi)
	}
}

func TestBBRInflightBoundGrowsWithoutQueue(t *testing.T) {
	// A bound below the pipe (a path that got faster) while the RTT shows
	// no queue grows by 1/16 per round until the flight it allows builds
	// a queue of an eighth of the min RTT; probes take it on from there.
	b, s := probeBWSim(t)
	b.bound = inflightBound{hi: b.bdp(1) / 2, quiet: boundQuietProbes}
	rounds := b.roundCount
	s.run(time.Second, nil)
	t.Logf("bound %d after %d rounds, limit %d, BDP %d", b.bound.hi, b.roundCount-rounds, b.inflightLimit(), b.bdp(1))
	require.Greater(t, b.inflightLimit(), b.bdp(1)+b.bdp(1)/8)
	s.acked = 0
	s.run(time.Second, nil)
	require.Greater(t, float64(s.acked*mss*8), 0.97*10e6)
}

func TestBBRStandingQueueMarginCoversJitter(t *testing.T) {
	for _, tc := range []struct {
		name            string
		rttVar, prevVar time.Duration
		queued          bool
	}{
		{"steady_rtt_queue_shows", time.Millisecond, time.Millisecond, true},
		{"deviation_swung_high_last_round", time.Millisecond, 6 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBBR(nil)
			b.minRTT, b.rttVar = 20*time.Millisecond, tc.rttVar
			// 8 ms above the min: beyond 25% (5 ms) and 2 × 1 ms, within
			// 2 × 6 ms.
			b.guard.roundMin, b.guard.prevMin = 28*time.Millisecond, 29*time.Millisecond
			b.guard.varMax, b.guard.prevVar = tc.rttVar, tc.prevVar
			require.Equal(t, tc.queued, b.standingQueue())
			require.True(t, b.queued(28*time.Millisecond), "the STARTUP test takes the current deviation")
		})
	}
}
