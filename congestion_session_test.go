package skiff

// Session-level congestion-control measurements (issue 5): real skiff
// sessions over a netem bottleneck in synctest fake time, fixed seeds.
// The link: 10 Mbit/s, 20 ms each way (40 ms RTT), a 1-BDP (50 000 B)
// drop-tail queue in front of the bottleneck in each direction. Data flows
// client → server (the link's AToB pipe), so the client's controller is
// the one measured.
//
// Full runs (60 s fairness, 20 s single flows) without -race and -short:
//
//	go test -run 'TestCongestionSession' -v .

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

const (
	ccBandwidth = 10e6                  // bits/s
	ccOneWay    = 20 * time.Millisecond // 40 ms RTT
	ccBaseRTT   = 2 * ccOneWay
	ccBDP       = 50_000 // bytes: 10 Mbit/s × 40 ms
	ccSample    = 100 * time.Millisecond
)

// ccSeedFlag overrides the benches' congestion seeds, to measure the
// spread over seeds: go test -run TestCongestionSessionFairness -v . -ccseed 3
var ccSeedFlag = flag.Uint64("ccseed", 0, "congestion seed of the first flow of every TestCongestionSession bench (0: netem seed × 1000)")

// ccFullRun reports whether the long (fake-time) runs are affordable:
// they cost real CPU, several times more under the race detector.
func ccFullRun() bool { return !testing.Short() && !raceEnabled }

// ccProfile is the bottleneck of issue 5 with optional random loss.
func ccProfile(loss float64) netem.Profile {
	return netem.Profile{Delay: ccOneWay, Bandwidth: ccBandwidth, QueueBytes: ccBDP, Loss: loss}
}

// ccFlow is one bulk session: a writer keeps the client's send buffer
// full, a reader on the server counts the bytes delivered.
type ccFlow struct {
	cc    string
	cpc   *netem.Conn
	c, s  *Session
	recv  atomic.Int64
	wg    sync.WaitGroup
	start time.Time
}

// ccBench is a netem network whose client host shares one link (one
// bottleneck) to the server host; every flow is a session from its own
// client port to one listener.
type ccBench struct {
	net   *netem.Network
	link  *netem.Link
	spc   *netem.Conn
	l     *Listener
	ctx   context.Context
	stop  context.CancelFunc
	flows []*ccFlow
	// ccSeed makes the controllers reproducible whatever ran before:
	// flow i (from 0) gets CongestionSeed ccSeed+i unless its Config sets
	// one.
	ccSeed uint64
}

// newCCBench builds the bench; seed seeds netem and, times 1000 (or
// -ccseed), the flows' congestion controllers.
func newCCBench(t testing.TB, seed int64, up, down netem.Profile) *ccBench {
	t.Helper()
	b := &ccBench{net: netem.NewNetwork(seed), ccSeed: uint64(seed) * 1000}
	if *ccSeedFlag != 0 {
		b.ccSeed = *ccSeedFlag
	}
	var err error
	b.link, err = b.net.Link(clientHost, serverHost, up, down)
	require.NoError(t, err)
	b.spc, err = b.net.ListenPacket(serverHost + ":5000")
	require.NoError(t, err)
	b.l, err = Listen(b.spc, &Config{})
	require.NoError(t, err)
	b.ctx, b.stop = context.WithCancel(context.Background())
	return b
}

// addFlow dials a session with controller cc and starts its bulk transfer.
func (b *ccBench) addFlow(t testing.TB, cc string) *ccFlow {
	t.Helper()
	return b.addFlowConfig(t, &Config{Congestion: cc})
}

// addFlowConfig dials a session with cfg and starts its bulk transfer.
func (b *ccBench) addFlowConfig(t testing.TB, cfg *Config) *ccFlow {
	t.Helper()
	f := &ccFlow{cc: cfg.Congestion, start: time.Now()}
	if cfg.CongestionSeed == 0 {
		c := *cfg
		c.CongestionSeed = b.ccSeed + uint64(len(b.flows))
		cfg = &c
	}
	var err error
	f.cpc, err = b.net.ListenPacket(clientHost + ":0")
	require.NoError(t, err)
	acc := make(chan *Session, 1)
	go func() {
		s, _ := b.l.AcceptSession(b.ctx)
		acc <- s
	}()
	f.c, err = Dial(b.ctx, f.cpc, b.spc.LocalAddr(), cfg)
	require.NoError(t, err)
	f.s = <-acc
	require.NotNil(t, f.s)
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.c.Write(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := f.s.Read(buf)
			f.recv.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	b.flows = append(b.flows, f)
	return f
}

// close aborts every flow and releases the network.
func (b *ccBench) close(t testing.TB) {
	for _, f := range b.flows {
		f.c.Abort()
		f.s.Abort()
		waitDone(t, f.c, f.s)
		f.wg.Wait()
	}
	b.l.Close()
	b.stop()
	b.net.Close()
	for _, f := range b.flows {
		f.cpc.Close()
	}
	b.spc.Close()
}

// ccSampleT is one periodic snapshot of the bench.
type ccSampleT struct {
	at   time.Duration // since the bench started
	recv []int64       // per flow, cumulative bytes delivered
	srtt []time.Duration
	pipe netem.Stats // data direction
}

// run samples the bench every ccSample for d; at each offset in starts it
// adds a flow (the first at 0 is expected to exist already).
func (b *ccBench) run(t testing.TB, d time.Duration, later map[time.Duration]string) []ccSampleT {
	t0 := time.Now()
	var out []ccSampleT
	for el := time.Duration(0); el <= d; el = time.Since(t0) {
		if cc, ok := later[el.Round(ccSample)]; ok {
			b.addFlow(t, cc)
			delete(later, el.Round(ccSample))
		}
		s := ccSampleT{at: el, pipe: b.link.AToB().Stats()}
		for _, f := range b.flows {
			s.recv = append(s.recv, f.recv.Load())
			s.srtt = append(s.srtt, f.c.Stats().SRTT)
		}
		out = append(out, s)
		time.Sleep(ccSample)
	}
	return out
}

// ccWindow summarises the samples between from and to.
type ccWindow struct {
	goodput    []float64 // bits/s per flow
	util       float64   // link delivered bytes / capacity
	queueLoss  float64   // queue-overflow drops / packets offered
	randLoss   float64   // Bernoulli drops / packets offered
	queueDelay time.Duration
	rttInfl    time.Duration // mean SRTT − base RTT (flow 0)
}

func summarise(ss []ccSampleT, from, to time.Duration) ccWindow {
	var a, z *ccSampleT
	var qsum float64
	var rsum time.Duration
	n := 0
	for i := range ss {
		s := &ss[i]
		if s.at < from || s.at > to {
			continue
		}
		if a == nil {
			a = s
		}
		z = s
		qsum += float64(s.pipe.QueueBytes)
		rsum += s.srtt[0]
		n++
	}
	if a == nil || z == a {
		return ccWindow{}
	}
	dt := (z.at - a.at).Seconds()
	w := ccWindow{}
	for i := range z.recv {
		var r0 int64
		if i < len(a.recv) {
			r0 = a.recv[i]
		}
		w.goodput = append(w.goodput, float64(z.recv[i]-r0)*8/dt)
	}
	w.util = float64(z.pipe.DeliveredBytes-a.pipe.DeliveredBytes) * 8 / dt / ccBandwidth
	if off := z.pipe.OfferedPackets - a.pipe.OfferedPackets; off > 0 {
		w.queueLoss = float64(z.pipe.DroppedQueue-a.pipe.DroppedQueue) / float64(off)
		w.randLoss = float64(z.pipe.DroppedLoss-a.pipe.DroppedLoss) / float64(off)
	}
	w.queueDelay = time.Duration(qsum / float64(n) * 8 / ccBandwidth * float64(time.Second))
	w.rttInfl = rsum/time.Duration(n) - ccBaseRTT
	return w
}

// jain is Jain's fairness index of x: 1 when all equal, 1/n when one has
// everything.
func jain(x []float64) float64 {
	var s, s2 float64
	for _, v := range x {
		s += v
		s2 += v * v
	}
	if s2 == 0 {
		return 0
	}
	return s * s / (float64(len(x)) * s2)
}

func mbps(bps float64) string { return fmt.Sprintf("%.2f", bps/1e6) }

// TestCongestionSessionSingleFlow: one session alone on the 1-BDP
// bottleneck. BBR, CUBIC and NewReno fill ≥ 90% of the link with < 2%
// queue-overflow loss. "none" (no congestion control: a fixed window equal
// to the flow-control window, 2 MiB by default, or 8 BDP with
// ReceiveBufferSize set so) overflows the queue far more than any
// controller.
func TestCongestionSessionSingleFlow(t *testing.T) {
	dur, from := 20*time.Second, 2*time.Second
	if !ccFullRun() {
		dur = 6 * time.Second
	}
	type row struct {
		name string
		w    ccWindow
	}
	var rows []row
	for _, cc := range []string{"reno", "cubic", "bbr", "none", "none-8bdp"} {
		t.Run(cc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newCCBench(t, 51, ccProfile(0), ccProfile(0))
				name := cc
				if cc == "none-8bdp" {
					name = "none"
				}
				cfg := &Config{Congestion: name}
				if cc == "none-8bdp" {
					// The fixed window is the flow-control window.
					cfg.ReceiveBufferSize = 8 * ccBDP
				}
				b.addFlowConfig(t, cfg)
				ss := b.run(t, dur, nil)
				b.close(t)
				w := summarise(ss, from, dur)
				rows = append(rows, row{cc, w})
				t.Logf("%s: goodput %s Mbit/s, utilisation %.1f%%, queue-overflow loss %.2f%%, mean queue delay %v, SRTT−base %v",
					cc, mbps(w.goodput[0]), 100*w.util, 100*w.queueLoss, w.queueDelay.Round(100*time.Microsecond), w.rttInfl.Round(100*time.Microsecond))
				switch cc {
				case "reno", "cubic", "bbr":
					require.GreaterOrEqual(t, w.util, 0.90, "%s link utilisation", cc)
					require.Less(t, w.queueLoss, 0.02, "%s queue-overflow loss", cc)
				case "none", "none-8bdp":
					require.Greater(t, w.queueLoss, 0.05, "no congestion control overflows the queue")
				}
			})
		})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "single flow, 10 Mbit/s, 40 ms RTT, 1-BDP queue, %v (window %v–%v):\n", dur, from, dur)
	fmt.Fprintf(&sb, "| cc | goodput Mbit/s | link util | queue-overflow loss | mean queue delay | SRTT − 40 ms |\n|---|---|---|---|---|---|\n")
	maxCC := 0.0
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | %s | %.1f%% | %.2f%% | %v | %v |\n", r.name, mbps(r.w.goodput[0]), 100*r.w.util, 100*r.w.queueLoss,
			r.w.queueDelay.Round(100*time.Microsecond), r.w.rttInfl.Round(100*time.Microsecond))
		if r.name == "reno" || r.name == "cubic" || r.name == "bbr" {
			maxCC = max(maxCC, r.w.queueLoss)
		}
	}
	t.Log("\n" + sb.String())
	for _, r := range rows {
		if r.name == "none" || r.name == "none-8bdp" {
			require.Greater(t, r.w.queueLoss, 5*maxCC, "none (8 BDP) overflows the queue far more than any controller")
		}
	}
}

// TestCongestionSessionFairness: two sessions started 5 s apart share the
// bottleneck. Jain's index over the last half of the run (60 s for
// BBR+BBR, also in the reduced run) is ≥ 0.9 for BBR+BBR; NewReno and
// CUBIC pairs are reported (and asserted at a looser measured level); BBR
// beside NewReno must leave NewReno more than 10%.
func TestCongestionSessionFairness(t *testing.T) {
	dur := 60 * time.Second
	pairs := [][2]string{{"bbr", "bbr"}, {"reno", "reno"}, {"cubic", "cubic"}, {"bbr", "reno"}, {"reno", "bbr"}}
	if !ccFullRun() {
		dur = 20 * time.Second
		pairs = [][2]string{{"bbr", "bbr"}, {"bbr", "reno"}}
	}
	type row struct {
		pair       string
		g          []float64
		j, util    float64
		queueLoss  float64
		queueDelay time.Duration
	}
	var rows []row
	for _, p := range pairs {
		name := p[0] + "+" + p[1]
		dur := dur
		if name == "bbr+bbr" {
			// Always the full minute: two BBR v1 flows take longer than
			// 20 s to converge, so Jain over 10–20 s is a draw over the
			// newcomer's start and the PROBE_BW phase seeds. Second flow
			// at 5.0, 5.1, ..., 6.9 s: over 10–20 s 6 of 20 runs fell
			// below 0.9 before the STARTUP loss exit (mean 0.939) and 5
			// of 20 after (0.945); over 30–60 s none (mean 0.992, min
			// 0.960 before; 0.986, min 0.949 after). The seeds are fixed
			// per flow (ccBench.ccSeed), so the figures do not depend on
			// test order or -run filters: 0.996 (seeds 52000/52001);
			// over -ccseed 1..20 min 0.941 (seed 2), mean 0.977, and
			// NewReno beside BBR keeps 23–32% (mean 27%).
			dur = 60 * time.Second
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newCCBench(t, 52, ccProfile(0), ccProfile(0))
				b.addFlow(t, p[0])
				ss := b.run(t, dur, map[time.Duration]string{5 * time.Second: p[1]})
				b.close(t)
				w := summarise(ss, dur/2, dur)
				j := jain(w.goodput)
				rows = append(rows, row{name, w.goodput, j, w.util, w.queueLoss, w.queueDelay})
				t.Logf("%s: last half %s / %s Mbit/s, Jain %.3f, utilisation %.1f%%, queue loss %.2f%%, queue delay %v",
					name, mbps(w.goodput[0]), mbps(w.goodput[1]), j, 100*w.util, 100*w.queueLoss, w.queueDelay.Round(100*time.Microsecond))
				require.Len(t, w.goodput, 2)
				switch {
				case p[0] == p[1] && p[0] == "bbr":
					require.GreaterOrEqual(t, j, 0.9, "BBR+BBR Jain index")
				case p[0] == p[1]:
					require.GreaterOrEqual(t, j, 0.75, "%s Jain index", name)
				default:
					reno := w.goodput[0]
					if p[1] == "reno" {
						reno = w.goodput[1]
					}
					require.Greater(t, reno/(w.goodput[0]+w.goodput[1]), 0.10, "NewReno beside BBR is not starved")
				}
			})
		})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "two flows (second starts at 5 s), %v run (bbr+bbr 60 s), figures over the last half:\n", dur)
	fmt.Fprintf(&sb, "| pair (first+second) | first Mbit/s | second Mbit/s | split | Jain | link util | queue loss | queue delay |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if len(r.g) < 2 {
			continue
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %.0f/%.0f | %.3f | %.1f%% | %.2f%% | %v |\n", r.pair, mbps(r.g[0]), mbps(r.g[1]),
			100*r.g[0]/(r.g[0]+r.g[1]), 100*r.g[1]/(r.g[0]+r.g[1]), r.j, 100*r.util, 100*r.queueLoss, r.queueDelay.Round(100*time.Microsecond))
	}
	t.Log("\n" + sb.String())
}

// TestCongestionSessionRandomLoss: the same link with 5% random loss on
// the data direction (acks are not lost) and no competing traffic. BBR
// keeps ≥ 85% of (1 − loss) × bandwidth on the wire; NewReno, which
// halves its window on every loss, collapses.
func TestCongestionSessionRandomLoss(t *testing.T) {
	const loss = 0.05
	dur, from := 20*time.Second, 2*time.Second
	ccs := []string{"reno", "cubic", "bbr"}
	if !ccFullRun() {
		dur = 6 * time.Second
		ccs = []string{"reno", "bbr"}
	}
	res := map[string]ccWindow{}
	for _, cc := range ccs {
		t.Run(cc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newCCBench(t, 53, ccProfile(loss), ccProfile(0))
				b.addFlow(t, cc)
				ss := b.run(t, dur, nil)
				b.close(t)
				w := summarise(ss, from, dur)
				res[cc] = w
				t.Logf("%s at %.0f%% loss: goodput %s Mbit/s, link delivered %.1f%% of capacity (%.1f%% of (1−loss)×bw), random loss %.2f%%, queue loss %.2f%%",
					cc, 100*loss, mbps(w.goodput[0]), 100*w.util, 100*w.util/(1-loss), 100*w.randLoss, 100*w.queueLoss)
			})
		})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "one flow, 5%% random loss on the data direction, %v (window %v–%v):\n", dur, from, dur)
	fmt.Fprintf(&sb, "| cc | goodput Mbit/s | goodput / ((1−loss)·bw) | link delivered / ((1−loss)·bw) | queue loss | queue delay | SRTT − 40 ms |\n|---|---|---|---|---|---|---|\n")
	for _, cc := range ccs {
		w, ok := res[cc]
		if !ok || len(w.goodput) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "| %s | %s | %.1f%% | %.1f%% | %.2f%% | %v | %v |\n", cc, mbps(w.goodput[0]),
			100*w.goodput[0]/((1-loss)*ccBandwidth), 100*w.util/(1-loss), 100*w.queueLoss,
			w.queueDelay.Round(100*time.Microsecond), w.rttInfl.Round(100*time.Microsecond))
	}
	t.Log("\n" + sb.String())
	bbr, reno := res["bbr"], res["reno"]
	require.NotEmpty(t, bbr.goodput)
	require.NotEmpty(t, reno.goodput)
	require.GreaterOrEqual(t, bbr.util, 0.85*(1-loss), "BBR keeps ≥ 85%% of (1−loss)×bandwidth on the link")
	require.Greater(t, bbr.goodput[0], 2*reno.goodput[0], "BBR well above NewReno at 5%% random loss")
}

// TestCongestionSeed: a set CongestionSeed is used as is; zero derives a
// non-zero seed from the connection ID, different per session.
func TestCongestionSeed(t *testing.T) {
	require.Equal(t, uint64(42), (&Config{CongestionSeed: 42}).congestionSeed(7))
	var c Config
	seen := map[uint64]bool{}
	for _, id := range []uint64{0, 1, 2, 3, 1 << 63, ^uint64(0)} {
		s := c.congestionSeed(id)
		require.NotZero(t, s, "conn ID %#x", id)
		require.Equal(t, s, c.congestionSeed(id), "conn ID %#x", id)
		seen[s] = true
	}
	require.Len(t, seen, 6, "distinct conn IDs give distinct seeds")
}
