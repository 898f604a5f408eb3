package flowsim

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// The issue's link: 10 Mbit/s, 40 ms RTT, a 1-BDP (50 kB) drop-tail queue.
var tenMbit = Link{Bandwidth: 10_000_000, RTT: 40 * time.Millisecond, QueueBytes: 50_000}

func run(t *testing.T, sc Scenario) Result {
	t.Helper()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = Run(sc)
		require.NoError(t, err)
	})
	return res
}

func ExampleJain() {
	fmt.Printf("%.2f %.2f\n", Jain([]float64{5, 5}), Jain([]float64{10, 0}))
	// Output: 1.00 0.50
}

// twoFlows runs a and b (b starting 5 s later) for 60 s and returns their
// goodputs over the last 30 s and Jain's index of them.
func twoFlows(t *testing.T, a, b string, link Link) (ga, gb, jain float64, res Result) {
	return twoFlowsSeed(t, a, b, link, 7)
}

func twoFlowsSeed(t *testing.T, a, b string, link Link, seed int64) (ga, gb, jain float64, res Result) {
	const d = 60 * time.Second
	res = run(t, Scenario{Link: link, Duration: d, Seed: seed, Flows: []Flow{
		{Name: a + "#1", Controller: a}, {Name: b + "#2", Controller: b, Start: 5 * time.Second},
	}})
	ga, gb = res.Flows[0].Goodput(d/2, d), res.Flows[1].Goodput(d/2, d)
	jain = Jain([]float64{ga, gb})
	t.Logf("%s vs %s (second starts at 5 s): last 30 s %.2f / %.2f Mbit/s, Jain %.3f, queue loss %.2f%%, rtt %v / %v",
		a, b, ga/1e6, gb/1e6, jain, 100*res.QueueLossRate(), res.Flows[0].MeanRTT, res.Flows[1].MeanRTT)
	return ga, gb, jain, res
}

func TestTwoFlowsConverge(t *testing.T) {
	for _, cc := range []string{"reno", "cubic", "bbr"} {
		t.Run(cc, func(t *testing.T) {
			ga, gb, jain, _ := twoFlows(t, cc, cc, tenMbit)
			require.GreaterOrEqual(t, jain, 0.9)
			require.Greater(t, (ga+gb)/1e7, 0.9)
		})
	}
}

// TestBBRFlowsConvergeAcrossSeeds: the inflight bound must not freeze two
// BBR flows at the split they had when the second one's STARTUP
// overflowed the queue (bound verdicts from cruise losses did: mean Jain
// over seeds 1..8 0.994 → 0.931, worst 0.80; probe losses only: 0.984).
func TestBBRFlowsConvergeAcrossSeeds(t *testing.T) {
	var sum float64
	const seeds = 4
	for seed := int64(1); seed <= seeds; seed++ {
		_, _, jain, _ := twoFlowsSeed(t, "bbr", "bbr", tenMbit, seed)
		require.GreaterOrEqual(t, jain, 0.9, "seed %d", seed)
		sum += jain
	}
	require.GreaterOrEqual(t, sum/seeds, 0.95, "mean Jain (measured 0.985)")
}

func TestBBRBesideNewRenoDoesNotStarveIt(t *testing.T) {
	for _, order := range [][2]string{{"bbr", "reno"}, {"reno", "bbr"}} {
		ga, gb, _, _ := twoFlows(t, order[0], order[1], tenMbit)
		reno := ga
		if order[1] == "reno" {
			reno = gb
		}
		require.Greater(t, reno/(ga+gb), 0.1, "NewReno keeps more than 10%%")
	}
}

func TestRandomLossBBRKeepsRateNewRenoCollapses(t *testing.T) {
	lossy := tenMbit
	lossy.Loss = 0.05
	const d = 30 * time.Second
	got := map[string]float64{}
	for _, cc := range []string{"bbr", "reno", "cubic"} {
		res := run(t, Scenario{Link: lossy, Flows: []Flow{{Name: cc, Controller: cc}}, Duration: d, Seed: 3})
		f := res.Flows[0]
		got[cc] = f.Goodput(5*time.Second, d)
		t.Logf("5%% random loss, %s: goodput %.2f Mbit/s (%.1f%% of (1-loss)×bandwidth), declared loss %.2f%%, queue loss %.2f%%, rtos %d",
			cc, got[cc]/1e6, 100*got[cc]/(0.95*1e7), 100*f.LossRate(), 100*res.QueueLossRate(), f.Sender.RTOs)
	}
	require.GreaterOrEqual(t, got["bbr"], 0.85*0.95*1e7)
	require.Less(t, got["reno"], 0.5*got["bbr"])
}

// The issue's headline: 50 Mbit/s, 20 ms RTT, 5% random loss, no
// congestion: kernel BBR keeps ~41 Mbit/s, skiff's target is ≥ 43 Mbit/s.
func TestRandomLoss50Mbit(t *testing.T) {
	link := Link{Bandwidth: 50_000_000, RTT: 20 * time.Millisecond, QueueBytes: 125_000, Loss: 0.05}
	const d = 10 * time.Second
	for _, cc := range []string{"bbr", "reno"} {
		res := run(t, Scenario{Link: link, Flows: []Flow{{Name: cc, Controller: cc}}, Duration: d, Seed: 5})
		g := res.Flows[0].Goodput(2*time.Second, d)
		t.Logf("50 Mbit/s, 20 ms, 5%% loss, %s: goodput %.2f Mbit/s", cc, g/1e6)
		if cc == "bbr" {
			require.GreaterOrEqual(t, g, 43e6)
		} else {
			require.Less(t, g, 10e6)
		}
	}
}

// TestSingleFlow runs reno, cubic, bbr and none (a fixed window of 128
// packets, about 3 BDP, like KCP's nocwnd with a 128-packet send window)
// alone on the clean 1-BDP link and prints them side by side: goodput,
// queue-overflow loss, mean queueing delay.
func TestSingleFlow(t *testing.T) {
	const d = 30 * time.Second
	t.Logf("%-6s %10s %10s %12s %10s %5s", "cc", "goodput", "queueloss", "queue delay", "max rtt", "rtos")
	var worst float64
	for _, fl := range []Flow{
		{Name: "reno", Controller: "reno"}, {Name: "cubic", Controller: "cubic"},
		{Name: "bbr", Controller: "bbr"}, {Name: "none", Controller: "none", InitialWindowPackets: 128},
	} {
		res := run(t, Scenario{Link: tenMbit, Flows: []Flow{fl}, Duration: d, Seed: 1})
		f := res.Flows[0]
		util := f.Goodput(time.Second, d) / 1e7
		// Mean RTT minus the base RTT and one packet's serialisation.
		qd := f.MeanRTT - tenMbit.RTT - time.Duration(1200*8*float64(time.Second)/1e7)
		t.Logf("%-6s %7.2f Mb/s %9.2f%% %12v %10v %5d", fl.Name, util*10,
			100*res.QueueLossRate(), qd.Round(100*time.Microsecond), f.MaxRTT.Round(100*time.Microsecond), f.Sender.RTOs)
		if fl.Name == "none" {
			require.Greater(t, res.QueueLossRate(), 10*worst, "no congestion control overflows the queue far more")
			continue
		}
		require.GreaterOrEqual(t, util, 0.90, fl.Name)
		require.Less(t, res.QueueLossRate(), 0.02, fl.Name)
		worst = max(worst, res.QueueLossRate())
	}
}

// TestBBRStartupShallowQueue is the bench link: 50 Mbit/s, 20 ms RTT, a
// 62.5 kB drop-tail queue (half a BDP). STARTUP's 2.89 gain overflows the
// queue until the loss is detected; the STARTUP loss exit and the recovery
// window stop it there, and STARTUP's cwnd gain of 2 (BBRv3) keeps the
// flight from reaching 2.89 BDP first (queue drops in the first 3 s on the
// clean link: 437 with none of these, 135 without the cwnd gain, 57 with
// it). Random loss does not slow the ramp.
func TestBBRStartupShallowQueue(t *testing.T) {
	const d = 3 * time.Second
	for _, tc := range []struct {
		loss       float64
		maxDrops   uint64  // queue overflows (measured 57, 28, 18; with STARTUP's cwnd gain 2.89 135, 140, 121)
		minGoodput float64 // bits/s over the 3 s (measured 48.7, 46.3, 44.0 M)
	}{
		{0, 80, 47e6},
		{0.05, 80, 45e6},
		{0.10, 80, 43e6},
	} {
		link := Link{Bandwidth: 50_000_000, RTT: 20 * time.Millisecond, QueueBytes: 62_500, Loss: tc.loss}
		res := run(t, Scenario{Link: link, Flows: []Flow{{Name: "bbr", Controller: "bbr"}}, Duration: d, Seed: 5})
		f := res.Flows[0]
		g := f.Goodput(0, d)
		t.Logf("%.0f%% loss: goodput %.2f Mbit/s, queue drops %d, loss drops %d, rtos %d",
			100*tc.loss, g/1e6, res.Forward.DroppedQueue, res.Forward.DroppedLoss, f.Sender.RTOs)
		require.Less(t, res.Forward.DroppedQueue, tc.maxDrops, "%.0f%% loss: STARTUP's queue overflow", 100*tc.loss)
		require.GreaterOrEqual(t, g, tc.minGoodput, "%.0f%% loss: goodput", 100*tc.loss)
	}
}

// TestBBRShallowQueueAckNoise is the bench link with acks delayed by a
// uniform ±AckJitter without reordering, as a real-time run loop reads
// them: delivery-rate samples over compressed ack intervals, kept by the
// max filter, put the bandwidth estimate 2–4% above the link, and v1's
// pacing alone let the standing queue creep until it overflowed every
// ~0.35 s. The inflight bound (BBRv2's inflight_hi, learned from loss with
// a standing queue) holds the flight 15% below where loss began. Queue
// drops after STARTUP (0.5–4 s), before → after: 175 → 20 at ±1 ms, 59 →
// 21 with 1% loss as well; random loss and noise alone keep the rate.
func TestBBRShallowQueueAckNoise(t *testing.T) {
	for _, tc := range []struct {
		jitter     time.Duration
		loss       float64
		maxDrops   uint64  // after STARTUP (measured 20, 21, 0, 0)
		minGoodput float64 // bits/s over 1–4 s (measured 50.0, 50.0, 49.4, 45.8 M; before 50.0, 49.9, 49.5, 45.7 M)
	}{
		{time.Millisecond, 0, 50, 49e6},
		{time.Millisecond, 0.01, 50, 49e6},
		{2 * time.Millisecond, 0.05, 20, 48e6},
		{500 * time.Microsecond, 0.10, 20, 44.5e6},
	} {
		link := Link{Bandwidth: 50_000_000, RTT: 20 * time.Millisecond, QueueBytes: 62_500, Loss: tc.loss, AckJitter: tc.jitter}
		sc := Scenario{Link: link, Flows: []Flow{{Name: "bbr", Controller: "bbr"}}, Duration: 500 * time.Millisecond, Seed: 5}
		startup := run(t, sc)
		sc.Duration = 4 * time.Second
		res := run(t, sc)
		drops := res.Forward.DroppedQueue - startup.Forward.DroppedQueue
		g := res.Flows[0].Goodput(time.Second, 4*time.Second)
		t.Logf("ack jitter ±%v, %.0f%% loss: queue drops %d in STARTUP, %d after; goodput %.2f Mbit/s", tc.jitter, 100*tc.loss, startup.Forward.DroppedQueue, drops, g/1e6)
		require.LessOrEqual(t, drops, tc.maxDrops, "±%v, %.0f%% loss", tc.jitter, 100*tc.loss)
		require.GreaterOrEqual(t, g, tc.minGoodput, "±%v, %.0f%% loss", tc.jitter, 100*tc.loss)
	}
}

// TestBBRRecoversAfterBandwidthDrop is bench P5: 50 Mbit/s dropping to 10
// for 5 s from 0.5 s. BBR keeps the 10 Mbit/s link busy and is back at the
// full rate within 0.75 s of the link (measured per 250 ms: 19, 38, 49
// Mbit/s; v1 without the inflight bound 16, 47, 50), with fewer queue drops
// (445 against 668).
func TestBBRRecoversAfterBandwidthDrop(t *testing.T) {
	const bin = 250 * time.Millisecond
	link := Link{Bandwidth: 50_000_000, RTT: 20 * time.Millisecond, QueueBytes: 62_500}
	res := run(t, Scenario{Link: link, Flows: []Flow{{Name: "bbr", Controller: "bbr"}}, Duration: 10 * time.Second, Seed: 5, Bin: bin,
		Changes: []BandwidthChange{{At: 500 * time.Millisecond, Bandwidth: 10_000_000}, {At: 5500 * time.Millisecond, Bandwidth: 50_000_000}}})
	f := res.Flows[0]
	var after []string
	for at := 5500 * time.Millisecond; at < 6500*time.Millisecond; at += bin {
		after = append(after, fmt.Sprintf("%.1f", f.Goodput(at, at+bin)/1e6))
	}
	t.Logf("queue drops %d; goodput 1–5.5 s %.2f Mbit/s, per 250 ms after the link is back %v, 6.25–10 s %.2f",
		res.Forward.DroppedQueue, f.Goodput(time.Second, 5500*time.Millisecond)/1e6, after, f.Goodput(6250*time.Millisecond, 10*time.Second)/1e6)
	require.GreaterOrEqual(t, f.Goodput(time.Second, 5500*time.Millisecond), 9.5e6)
	require.GreaterOrEqual(t, f.Goodput(5500*time.Millisecond, 6250*time.Millisecond), 30e6)
	require.GreaterOrEqual(t, f.Goodput(6250*time.Millisecond, 10*time.Second), 49e6)
	require.Less(t, res.Forward.DroppedQueue, uint64(550))
}
