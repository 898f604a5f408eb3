package skiff

// Sparse FEC groups (fec/doc.go, "Sparse groups"): a message alone in its
// group gets repairs sized for a bursty path from the first message on
// (a prior of 5% loss with P(lost | previous lost) = 0.7, relaxed as
// repair outcomes show a cleaner path), XOR sends its parity, a copy of
// the message, as many times, and a byte budget bounds the extras, so
// bulk transfers (full groups) keep their overhead.
//
//	go test -run TestFECSparse -v .

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// TestFECSparseP4Latency: 200-byte reliable ordered messages at 50 Hz over
// P4 (5% Gilbert-Elliott loss, mean burst 3, ±5 ms jitter), 300 per seed,
// latencies pooled over the seeds: the p99 of both FEC schemes stays under
// issue 8's 25 ms, and what it costs on the wire stays bounded. Seeds
// 21–30, not TestP4MessageLatency's 1–10: with a cap of 4 repairs, seeds
// 1–10 gave 16–22 ms and seeds 11–50 33–35 ms (a 1% failure rate at
// exactly p99), so the cap (SparseMaxM, MaxCopies: 6) is checked on seeds
// it was not chosen on.
func TestFECSparseP4Latency(t *testing.T) {
	const msgs = 300
	seeds := 10
	if testing.Short() || raceEnabled {
		seeds = 5
	}
	var sb strings.Builder
	for _, st := range cmpStrategies {
		if st.cfg.Recovery != RecoveryFEC {
			continue
		}
		var pooled []time.Duration
		var wire, extras uint64
		for seed := 21; seed < 21+seeds; seed++ {
			r := runP4Messages(t, int64(seed), st.cfg, msgs, ReliableOrdered)
			wire += r.wire
			fs := r.c.c.strat.(*fec.Strategy).Stats()
			extras += fs.Encoder.SparseRepairs
			require.Zero(t, fs.Encoder.SparseWithheld, "seed %d: 50 Hz messages stay within the budget", seed)
			pooled = append(pooled, r.lat...)
		}
		if t.Failed() {
			return
		}
		slices.Sort(pooled)
		n := len(pooled)
		p50, p99 := pooled[n/2], pooled[n*99/100-1]
		ratio := float64(wire) / float64(200*n)
		fmt.Fprintf(&sb, "%-8s p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms  wire/payload %.2f  extra repairs per message %.2f\n",
			st.name, float64(p50)/1e6, float64(p99)/1e6, float64(pooled[n-1])/1e6, ratio, float64(extras)/float64(n))
		require.LessOrEqual(t, p99, 25*time.Millisecond, "%s: pooled P4 message p99 over %d seeds", st.name, seeds)
		// A message and up to six repairs, each with its headers; the
		// acks the receiver sends go the other way.
		require.Less(t, ratio, 10.0, "%s: wire bytes per message byte", st.name)
	}
	t.Logf("P4, 50 Hz x 200 B, %d seeds x %d messages, pooled:\n%s", seeds, msgs, sb.String())
}

// TestFECSparseBulkOverhead: a bulk transfer is no sparse traffic (its
// source rate is far above the 64 KiB/s budget), so its groups, full or
// not, keep the regular rule. On a clean link and at 5% random loss, with
// the extras on (the default) and off (SparseRepairRate < 0), at most the
// first groups get extras, within the budget and far under 1% of the
// payload, and the mean wire ratio over the seeds grows by less than
// 0.005. (An extra packet early shifts every later loss and the adaptive
// m that follows the loss estimate: one seed alone may then differ by
// ±0.04.)
func TestFECSparseBulkOverhead(t *testing.T) {
	size, seeds := 4<<20, []int64{43, 44, 45}
	if testing.Short() || raceEnabled {
		size, seeds = 2<<20, []int64{43, 44}
	}
	data := randomData(size, 6)
	base := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 62_500}
	lossy := base
	lossy.Loss = 0.05
	var sb strings.Builder
	for _, pr := range []struct {
		name string
		p    netem.Profile
	}{{"P0", base}, {"P2", lossy}} {
		for _, scheme := range []fec.Scheme{fec.SchemeReedSolomon, fec.SchemeXOR} {
			var ratio [2]float64
			var extras uint64
			for i, rate := range []int{0, -1} {
				for _, seed := range seeds {
					synctest.Test(t, func(t *testing.T) {
						cfg := Config{Recovery: RecoveryFEC, FEC: fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: scheme, SparseRepairRate: rate}}}
						e := newNetemEnv(t, seed, pr.p, pr.p, &cfg, &cfg)
						before := e.link.AToB().Stats()
						start := time.Now()
						got := sendAll(t, e.c, e.s, data)
						el := time.Since(start)
						after := e.link.AToB().Stats()
						e.close(t)
						requireSameData(t, data, got)
						ratio[i] += float64(after.OfferedBytes-before.OfferedBytes) / float64(size) / float64(len(seeds))
						fs := e.c.c.strat.(*fec.Strategy).Stats()
						if rate < 0 {
							require.Zero(t, fs.Encoder.SparseRepairs)
							return
						}
						extras += fs.Encoder.SparseRepairs
						// Each extra repair is at most an MTU-sized packet.
						extra := float64(fs.Encoder.SparseRepairs) * float64(DefaultMTU)
						budget := float64(fec.DefaultSparseRepairRate) * (el.Seconds() + 0.25)
						require.LessOrEqual(t, extra, budget, "%s %v seed %d: sparse extras within the budget", pr.name, scheme, seed)
						require.Less(t, extra, 0.002*float64(size), "%s %v seed %d: sparse extras of the payload", pr.name, scheme, seed)
					})
				}
			}
			fmt.Fprintf(&sb, "%s %-3v wire/payload %.3f (sparse extras off %.3f), extra repairs %d\n", pr.name, scheme, ratio[0], ratio[1], extras)
			require.Less(t, ratio[0], ratio[1]+0.005, "%s %v: mean bulk wire ratio with sparse extras", pr.name, scheme)
		}
	}
	t.Logf("%d MiB bulk, BBR, seeds %v, mean:\n%s", size>>20, seeds, sb.String())
}
