package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const recoveryTestRTT = 20 * time.Millisecond

// startupBBR returns a BBR in STARTUP after four clean rounds of
// recoveryTestRTT (min RTT known, cwnd ~160 segments) and a fifth round
// filled and in flight, half of it acked after rtt (a queue when rtt is
// well above recoveryTestRTT).
func startupBBR(t *testing.T, rtt time.Duration) (*BBR, *driver) {
	t.Helper()
	b := NewBBR(Config{MaxDatagramSize: mss, Seed: 1})
	d := newDriver(b)
	for range 4 {
		d.round(recoveryTestRTT)
	}
	require.Equal(t, "startup", b.State())
	n := d.fill()
	d.advance(rtt)
	for range n / 2 {
		d.ack(d.pending[0])
	}
	require.Equal(t, "startup", b.State())
	require.False(t, b.InRecovery())
	return b, d
}

func TestBBRRecoveryWindowModulation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rtt      time.Duration // of the acks before the loss
		mode     bbrMode
		modulate bool
	}{
		{"startup_loss_with_queue_conserves", 3 * recoveryTestRTT, bbrStartup, true},
		{"startup_loss_without_queue_keeps_cwnd", recoveryTestRTT, bbrStartup, false},
		{"probe_bw_loss_keeps_cwnd", 3 * recoveryTestRTT, bbrProbeBW, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, d := startupBBR(t, tc.rtt)
			require.Equal(t, tc.rtt > recoveryTestRTT, b.queued(b.guard.recentMin()),
				"queue signal from the last %d RTT samples", guardRecentRTTs)
			b.mode = tc.mode
			cwnd := b.CongestionWindow()
			d.lose(d.pending[0])
			require.True(t, b.InRecovery())
			if !tc.modulate {
				require.Equal(t, cwnd, b.CongestionWindow(), "window not modulated")
				return
			}
			require.Equal(t, d.flight+mss, b.CongestionWindow(), "entering recovery: flight + 1 segment")
			require.Equal(t, 1, d.fill())
			for range 5 { // conservation: one packet per packet acked
				d.ack(d.pending[0])
				require.Equal(t, d.flight+mss, b.CongestionWindow())
				require.Equal(t, 1, d.fill())
			}
			w := b.CongestionWindow()
			d.lose(d.pending[0])
			require.Equal(t, w-mss, b.CongestionWindow(), "a loss is not replaced")
			require.Zero(t, d.fill())
		})
	}
}

func TestBBRRecoveryGrowthAndRestore(t *testing.T) {
	b, d := startupBBR(t, 3*recoveryTestRTT)
	prior := b.CongestionWindow()
	d.lose(d.pending[0])
	firstAfter := d.nextPN
	d.fill()
	require.Equal(t, bbrConservation, b.recovery.state)
	// Ack what was sent before recovery: still conservation. One more
	// loss among them extends recovery past the conservation round.
	d.lose(d.pending[0])
	for d.pending[0] < firstAfter {
		d.ack(d.pending[0])
		require.Equal(t, bbrConservation, b.recovery.state)
		d.fill()
	}
	// A packet sent after recovery began is acked: a round has passed,
	// every ack now releases two packets.
	d.ack(d.pending[0])
	require.Equal(t, bbrGrowth, b.recovery.state)
	d.fill()
	// Losses go on, each extending recovery to what was sent so far; a
	// loss is not replaced, an acked packet is, twice.
	d.lose(d.pending[0])
	require.Zero(t, d.fill())
	for range 5 {
		d.ack(d.pending[0])
		require.Equal(t, 2, d.fill(), "growth: two packets per packet acked")
	}
	require.True(t, b.InRecovery())
	// Once a packet sent after the last loss is acked, the model's cwnd
	// applies again.
	for d.pending[0] <= b.recovery.end {
		d.ack(d.pending[0])
		require.True(t, b.InRecovery())
	}
	d.ack(d.pending[0])
	require.False(t, b.InRecovery())
	require.Equal(t, b.cwnd, b.CongestionWindow())
	require.GreaterOrEqual(t, b.CongestionWindow(), prior, "restored at least the cwnd before recovery")
}

func TestBBRRecoveryEndsInProbeBW(t *testing.T) {
	b, d := startupBBR(t, 3*recoveryTestRTT)
	b.mode = bbrDrain
	d.lose(d.pending[0])
	require.True(t, b.recovery.modulating())
	b.enterProbeBW(d.now)
	require.False(t, b.recovery.modulating(), "PROBE_BW uses the model's cwnd")
	require.True(t, b.InRecovery(), "until a round without loss")
	require.Equal(t, b.cwnd, b.CongestionWindow())
}

func TestBBRStartupLossExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rtt    time.Duration // of the acks before the losses
		losses int
		exit   bool
	}{
		{"heavy_loss_with_queue_ends_startup", 3 * recoveryTestRTT, 10, true},
		{"heavy_loss_without_queue_keeps_startup", recoveryTestRTT, 10, false},
		{"few_losses_with_queue_keep_startup", 3 * recoveryTestRTT, guardStartupLosses - 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, d := startupBBR(t, tc.rtt)
			for range tc.losses {
				d.lose(d.pending[0])
			}
			if tc.exit {
				// DRAIN, and on to PROBE_BW at once: the flight is below a BDP.
				require.True(t, b.filledPipe)
				require.Equal(t, "probe_bw", b.State())
			} else {
				require.Equal(t, "startup", b.State())
			}
		})
	}
}

func TestBBRStartupLossExitNeedsLossRate(t *testing.T) {
	// 8 losses in a round of ~640 delivered packets is 1.2%: below the
	// 2% that ends STARTUP.
	b := NewBBR(Config{MaxDatagramSize: mss, Seed: 1})
	d := newDriver(b)
	for range 8 {
		d.round(recoveryTestRTT)
	}
	n := d.fill()
	d.advance(3 * recoveryTestRTT)
	for range n - guardStartupLosses {
		d.ack(d.pending[0])
	}
	require.Greater(t, b.guard.delivered, int64(50*guardStartupLosses*mss))
	require.True(t, b.queued(b.guard.recentMin()))
	for range guardStartupLosses {
		d.lose(d.pending[0])
	}
	require.Equal(t, "startup", b.State())
}
