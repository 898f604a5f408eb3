package skiff

// Bulk goodput of a skiff session (default BBR, RTO recovery) over the
// bench's P4 profile: 50 Mbit/s, 10 ms each way, 62.5 KB drop-tail queue,
// 5% Gilbert-Elliott loss (mean burst 3), ±5 ms uniform jitter with
// reordering. BBR's loss guard used to mistake the jitter for a standing
// queue and cap inflight on every lossy round (2–4 Mbit/s).
//
//	go test -run TestP4BulkGoodput -v .

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

func p4Profile(t testing.TB) netem.Profile {
	t.Helper()
	ge, err := netem.GilbertElliottFromLoss(0.05, 3)
	require.NoError(t, err)
	return netem.Profile{
		Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 62_500,
		Burst: &ge, Jitter: 5 * time.Millisecond, JitterDist: netem.JitterUniform, AllowReorder: true,
	}
}

// p4Messages is one seed's run of 200-byte messages at 50 Hz over P4
// (both directions) in fake time: the one-way latencies, sorted; the bytes
// offered to the data direction; the sender's retransmissions; and the
// sender, closed (its run loop has ended, so its state may be read).
type p4Messages struct {
	lat  []time.Duration
	wire uint64
	retx uint64
	c    *Session
}

// runP4Messages sends n messages with delivery mode from a client to a
// server configured alike with cfg over P4 seeded with seed.
func runP4Messages(t *testing.T, seed int64, cfg Config, n int, mode Delivery) p4Messages {
	var r p4Messages
	synctest.Test(t, func(t *testing.T) {
		p := p4Profile(t)
		e := newNetemEnv(t, seed, p, p, &cfg, &cfg)
		before := e.link.AToB().Stats()
		r.lat = sendTimedMessagesAs(t, e.c, e.s, n, mode)
		r.wire = e.link.AToB().Stats().OfferedBytes - before.OfferedBytes
		r.retx = e.c.Stats().PacketsRetransmitted
		e.close(t)
		r.c = e.c
	})
	return r
}

func TestP4BulkGoodput(t *testing.T) {
	size := 8 << 20
	if testing.Short() {
		size = 2 << 20
	}
	synctest.Test(t, func(t *testing.T) {
		p := p4Profile(t)
		var maxCwnd, events int
		ccfg := &Config{Recovery: RecoveryRTO, CongestionTracer: func(ev congestion.Event) {
			events++
			maxCwnd = max(maxCwnd, ev.CWND)
		}}
		e := newNetemEnv(t, 1, p, p, ccfg, &Config{Recovery: RecoveryRTO})
		data := randomData(size, 4)
		start := time.Now()
		got := sendAll(t, e.c, e.s, data)
		el := time.Since(start)
		requireSameData(t, data, got)
		mbps := float64(size) * 8 / el.Seconds() / 1e6
		st := e.c.Stats()
		t.Logf("P4 RTO: %d MiB in %v (fake) = %.1f Mbit/s; sent %d, retx %d, lost %d, rto %d; max cwnd %d",
			size>>20, el, mbps, st.PacketsSent, st.PacketsRetransmitted, st.PacketsLost, st.RetransmissionTimeouts, maxCwnd)
		e.close(t)
		require.GreaterOrEqual(t, mbps, 30.0, "P4 bulk goodput")
	})
}
