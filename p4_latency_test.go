package skiff

// Message latency over the bench's P4 profile (p4Profile: 50 Mbit/s, 10 ms
// each way, 5% Gilbert-Elliott loss with mean burst 3 packets, ±5 ms
// uniform jitter with reordering, both directions): 200-byte reliable
// ordered messages at 50 Hz, 300 per seed as in the bench, the one-way
// latencies of all seeds pooled.
//
//	go test -run TestP4MessageLatency -v .
//
// Pooled p99 over seeds 1..10 (300 messages each, fake time), before ->
// after the tail-timer rework (tail timers for every live packet of a
// short flight, up to six expiries, two copies per expiry) and, for
// fec-rs, burst-aware repair counts for sparse groups (fec/doc.go): rto
// 77.3 -> 50.5 ms, nack 85.1 -> 50.7, fec-rs 71.7 -> 43.1 (wire/payload
// 2.6 -> 4.6), fec-xor 75.6 -> 54.7; max rto 227 -> 143 ms. The loss is
// per packet, so a burst takes the message, the next one and the first
// retransmissions; what matters is how soon and how often the sender sends
// the lost frame again.
//
// Then sparse FEC groups sized for bursts from the first message, up to
// six repairs (XOR: six parity copies; fec/doc.go "Sparse groups"):
// fec-rs 16.6 ms, fec-xor 18.5 ms at wire/payload 8.7 and 8.4 (seeds
// 21..30 in TestFECSparseP4Latency: 15.5 and 14.7). And RACK for short
// flights, a tail bound from the recent maximum RTT and back-to-back copies
// sized to the measured bursts (rudp, arq_burst_test.go): rto 50.5 -> 39.0
// ms, nack 50.7 -> 43.2 (5 seeds: 42.7, 45.8). With the 1 ms tail
// granularity and path-MTU discovery since: rto 41.9, nack 42.8, fec-rs
// 14.4, fec-xor 16.2 ms (max rto 106 ms). With the 0.5 ms sparse tail
// granularity (rudp.SparseTailGranularity): rto 38.1, nack 42.3, fec-rs
// 15.3, fec-xor 14.4 ms (max rto 93 ms; retransmitted 965 -> 989, nack
// 912 -> 1035). The limits leave about
// 10 ms of margin over the ten-seed figures and the five seeds of -race and
// -short runs.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff/fec"
	"github.com/stretchr/testify/require"
)

func TestP4MessageLatency(t *testing.T) {
	const msgs = 300
	seeds := 10
	if testing.Short() || raceEnabled {
		seeds = 5 // about 5 s under -race
	}
	// Limits on the pooled p99, with a margin over what was measured.
	limits := map[string]time.Duration{
		"rto": 55 * time.Millisecond, "nack": 55 * time.Millisecond,
		"fec-rs": 28 * time.Millisecond, "fec-xor": 30 * time.Millisecond,
	}
	var sb strings.Builder
	for _, st := range cmpStrategies {
		var pooled []time.Duration
		var retx, wire uint64
		for seed := 1; seed <= seeds; seed++ {
			r := runP4Messages(t, int64(seed), st.cfg, msgs, ReliableOrdered)
			wire += r.wire
			retx += r.retx
			if fs, ok := r.c.c.strat.(*fec.Strategy); ok && st.name == "fec-rs" {
				// The burst-aware parity saw the bursts.
				fst := fs.Stats()
				require.Greater(t, fst.BurstEstimate, 2*fst.LossEstimate, "seed %d: P(lost | previous lost) over the loss rate", seed)
			}
			// sendTimedMessagesAs verified the count; every message's
			// stamp was decoded, so the data arrived intact and in order.
			pooled = append(pooled, r.lat...)
		}
		if t.Failed() {
			return
		}
		slices.Sort(pooled)
		n := len(pooled)
		p50, p99, maxLat := pooled[n/2], pooled[n*99/100-1], pooled[n-1]
		fmt.Fprintf(&sb, "%-8s p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms  retransmitted %d  wire/payload %.2f\n", st.name,
			float64(p50)/1e6, float64(p99)/1e6, float64(maxLat)/1e6, retx, float64(wire)/float64(200*n))
		if lim, ok := limits[st.name]; ok && p99 > lim {
			t.Errorf("%s: pooled P4 message p99 %v over %d seeds exceeds %v", st.name, p99, seeds, lim)
		}
	}
	t.Logf("P4, 50 Hz x 200 B, %d seeds x %d messages, one-way latency pooled:\n%s", seeds, msgs, sb.String())
}
