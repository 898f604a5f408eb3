package rtp

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
)

// streamSpec is a simulated 30 fps encoder: a GOP of one I frame then
// B B P B B P ..., sizes I:P:B = 10:3:1 units. B frames reference the last
// I/P frame; P frames the previous I/P. A key-frame request restarts the GOP.
type streamSpec struct {
	fps      int
	gop      int
	unit     int
	duration time.Duration
	deadline time.Duration
}

func (s streamSpec) bitrate() float64 {
	// per GOP: 1 I, (gop-1)/3 P, the rest B.
	p := (s.gop - 1) / 3
	b := s.gop - 1 - p
	bytes := (10 + 3*p + b) * s.unit
	return float64(bytes*8) * float64(s.fps) / float64(s.gop)
}

type sentFrame struct {
	kind    Kind
	capture time.Time
}

type kindResult struct {
	sent, delivered, late int
	latency               []time.Duration // capture → completion
}

type streamResult struct {
	kinds   [4]kindResult
	latency []time.Duration // all delivered frames, capture → completion
	playout []time.Duration // capture → emission
	sess    SessionStats
	rcv     SessionStats
	pipe    netem.Stats
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func (r *streamResult) String() string {
	out := ""
	for _, k := range []Kind{KindI, KindP, KindB} {
		kr := r.kinds[k]
		out += fmt.Sprintf("%s: %d/%d delivered (%.1f%%), late %d, latency p50 %v p99 %v\n", k, kr.delivered, kr.sent,
			100*float64(kr.delivered)/float64(max(kr.sent, 1)), kr.late, pct(kr.latency, .5), pct(kr.latency, .99))
	}
	out += fmt.Sprintf("all: latency p50 %v p99 %v max %v; playout p50 %v p99 %v", pct(r.latency, .5), pct(r.latency, .99),
		pct(r.latency, 1), pct(r.playout, .5), pct(r.playout, .99))
	return out
}

// runStream runs spec from host A to host B over netem with the given
// profiles (A→B, B→A) and configs, in the caller's synctest bubble.
func runStream(t *testing.T, seed int64, spec streamSpec, ab, ba netem.Profile, scfg SenderConfig, rcfg ReceiverConfig) *streamResult {
	t.Helper()
	nw := netem.NewNetwork(seed)
	defer nw.Close()
	link, err := nw.Link("10.0.0.1", "10.0.0.2", ab, ba)
	require.NoError(t, err)
	ca, err := nw.ListenPacket("10.0.0.1:5004")
	require.NoError(t, err)
	cb, err := nw.ListenPacket("10.0.0.2:5004")
	require.NoError(t, err)
	scfg.SSRC = 0x1000
	a, err := NewSession(SessionConfig{Conn: ca, Peer: cb.LocalAddr(), Sender: scfg, Seed: seed, SessionBandwidth: congestion.Bandwidth(spec.bitrate())})
	require.NoError(t, err)
	b, err := NewSession(SessionConfig{Conn: cb, Peer: ca.LocalAddr(), Sender: SenderConfig{SSRC: 0x2000}, Receiver: rcfg, Seed: seed + 1, FrameBuffer: 1024})
	require.NoError(t, err)

	res := &streamResult{}
	var mu sync.Mutex
	sent := map[uint64]sentFrame{} // by wire-independent capture index (media timestamp)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for f := range b.Frames() {
			mu.Lock()
			idx := uint64((f.Timestamp + time.Millisecond) * time.Duration(spec.fps) / time.Second)
			sf, ok := sent[idx]
			mu.Unlock()
			if !ok {
				continue
			}
			lat := f.CompletedAt.Sub(sf.capture)
			kr := &res.kinds[sf.kind]
			kr.delivered++
			kr.latency = append(kr.latency, lat)
			res.latency = append(res.latency, lat)
			res.playout = append(res.playout, f.PlayoutAt.Sub(sf.capture))
			// 1 ms tolerance: media times are rounded to the 90 kHz clock.
			if spec.deadline > 0 && f.PlayoutAt.Sub(sf.capture) > spec.deadline+time.Millisecond {
				kr.late++
			}
		}
	}()

	frameDur := time.Second / time.Duration(spec.fps)
	n := int(spec.duration / frameDur)
	start := time.Now()
	var lastRef, lastID FrameID
	pos := 0
	for i := range n {
		select {
		case <-a.KeyFrameRequests():
			// Like real encoders, honour key-frame requests at most once
			// a second.
			if pos >= spec.fps {
				pos = 0
			}
		default:
		}
		f := Frame{Timestamp: time.Duration(i) * frameDur}
		switch {
		case pos%spec.gop == 0:
			f.Kind, f.Payload = KindI, make([]byte, 10*spec.unit)
		case pos%spec.gop%3 == 0:
			f.Kind, f.Payload, f.DependsOn = KindP, make([]byte, 3*spec.unit), lastRef
		default:
			f.Kind, f.Payload, f.DependsOn = KindB, make([]byte, spec.unit), lastRef
		}
		pos++
		capture := start.Add(time.Duration(i) * frameDur)
		time.Sleep(time.Until(capture))
		if spec.deadline > 0 {
			f.Deadline = capture.Add(spec.deadline)
		}
		mu.Lock()
		sent[uint64(i)] = sentFrame{kind: f.Kind, capture: capture}
		mu.Unlock()
		res.kinds[f.Kind].sent++
		id, err := a.Send(f)
		require.NoError(t, err)
		lastID = id
		if f.Kind != KindB {
			lastRef = id
		}
	}
	_ = lastID
	time.Sleep(2 * time.Second) // drain
	res.sess = a.Stats()
	res.rcv = b.Stats()
	res.pipe = link.AToB().Stats()
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	wg.Wait()
	return res
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// 5% random loss both ways, 40 ms RTT, 150 ms deadline; NACK/RTX only, and
// with unequal FEC (I and P frames 25% parity, B none).
func TestStreamRandomLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		fec  FECPolicy
		hold time.Duration // first-NACK delay, giving parity a chance
	}{{"nack_rtx", nil, 0}, {"nack_rtx_unequal_fec", UnequalFEC(0.25, 0.25), 15 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				spec := streamSpec{fps: 30, gop: 30, unit: 1500, duration: 20 * time.Second, deadline: 150 * time.Millisecond}
				prof := netem.Profile{Delay: 20 * time.Millisecond, Loss: 0.05}
				res := runStream(t, testSeed(1), spec, prof, prof,
					// Random (non-congestive) loss: the loss-based budget holds
					// between 2% and 10%, but report-to-report noise would walk
					// it down, so it is floored at 2 Mbit/s. InitialRTT as if
					// known from signalling.
					SenderConfig{InitialRTT: 40 * time.Millisecond, FECPolicy: tc.fec,
						Budget: NewLossBasedRate(2500*congestion.KbitPerSecond, 2*congestion.MbitPerSecond, 4*congestion.MbitPerSecond)},
					ReceiverConfig{PlayoutDelay: 130 * time.Millisecond, InitialRTT: 40 * time.Millisecond, ReorderWait: tc.hold})
				ss, rs := res.sess.Sender, res.rcv.Receiver
				t.Logf("5%% loss, RTT 40 ms, deadline 150 ms, %.0f kbit/s, %s:\n%s", spec.bitrate()/1000, tc.name, res)
				t.Logf("media packets %d, RTX %d (tail probes %d), parity %d, overhead %.1f%%; receiver: repaired by RTX %d, by FEC %d, NACKed %d, PLIs %d",
					ss.Packets, ss.Retransmitted, ss.TailProbes, ss.FECPackets,
					100*float64(ss.Retransmitted+ss.FECPackets)/float64(ss.Packets), rs.Repaired, rs.FECRecovered, rs.NACKsSent, rs.PLIsSent)
				require.Equal(t, res.kinds[KindI].sent, res.kinds[KindI].delivered, "every I frame")
				require.GreaterOrEqual(t, float64(res.kinds[KindP].delivered), 0.99*float64(res.kinds[KindP].sent), "≥ 99%% of P frames")
				for _, k := range []Kind{KindI, KindP, KindB} {
					require.Zero(t, res.kinds[k].late, "no %s frame played out late", k)
				}
			})
		})
	}
}

// The bottleneck (500 kbit/s, 20 kB drop-tail queue) carries less than the
// stream (684 kbit/s): the priority-aware sender drops B, then P, keeps
// every I frame and bounded latency; the reliable baseline (no drops,
// unbounded retransmission, receiver waits for every frame) with the same
// budget and seed sees its latency grow. Two budgets: a fixed pacing rate
// just under the bottleneck (what a working congestion controller gives),
// and the RTCP-driven LossBasedRate with its RTT-inflation rule, starting
// at 300 kbit/s, over six seeds (the seed moves the report schedule, so the
// rate's walk; every I frame must arrive whatever the walk).
func TestStreamBottleneck(t *testing.T) {
	budgets := []struct {
		name  string
		mk    func() Budget
		seeds []int64
	}{
		{"fixed_450k", func() Budget { return FixedRate(450 * congestion.KbitPerSecond) }, []int64{testSeed(2)}},
		{"rtcp_loss_and_delay", func() Budget {
			b := NewLossBasedRate(300*congestion.KbitPerSecond, 100*congestion.KbitPerSecond, 3*congestion.MbitPerSecond)
			b.DelayThreshold = 25 * time.Millisecond
			return b
		}, []int64{testSeed(1), testSeed(2), testSeed(3), testSeed(4), testSeed(5), testSeed(6)}},
	}
	for _, bc := range budgets {
		for _, seed := range slices.Compact(bc.seeds) {
			t.Run(fmt.Sprintf("%s/seed_%d", bc.name, seed), func(t *testing.T) { testBottleneck(t, bc.mk, seed) })
		}
	}
}

func testBottleneck(t *testing.T, budget func() Budget, seed int64) {
	spec := streamSpec{fps: 30, gop: 30, unit: 1500, duration: 20 * time.Second, deadline: 600 * time.Millisecond}
	ab := netem.Profile{Delay: 20 * time.Millisecond, Bandwidth: 500_000, QueueBytes: 20_000}
	ba := netem.Profile{Delay: 20 * time.Millisecond}
	var media, reliable *streamResult
	synctest.Test(t, func(t *testing.T) {
		media = runStream(t, seed, spec, ab, ba, SenderConfig{Budget: budget(), InitialRTT: 40 * time.Millisecond},
			// Playout origin = fastest transit: 20 ms delay + 19 ms to
			// serialise one packet at 500 kbit/s.
			ReceiverConfig{PlayoutDelay: spec.deadline - 50*time.Millisecond, InitialRTT: 40 * time.Millisecond})
	})
	synctest.Test(t, func(t *testing.T) {
		reliable = runStream(t, seed, spec, ab, ba,
			SenderConfig{Budget: budget(), InitialRTT: 40 * time.Millisecond, DisableDrop: true, RetransmitIgnoresDeadline: true, RetransmitMinPriority: 1},
			ReceiverConfig{EmitOnComplete: true, MaxNACKRounds: 1000, NACKMinPriority: 1, InitialRTT: 40 * time.Millisecond})
	})
	t.Logf("bottleneck 500 kbit/s < stream %.0f kbit/s, deadline 600 ms\npriority-aware:\n%s\nsender %+v", spec.bitrate()/1000, media, media.sess.Sender.Kinds)
	t.Logf("reliable baseline:\n%s", reliable)
	rate := func(r *streamResult, k Kind) float64 {
		return float64(r.kinds[k].delivered) / float64(max(r.kinds[k].sent, 1))
	}
	require.Equal(t, media.kinds[KindI].sent, media.kinds[KindI].delivered, "every I frame arrives")
	require.Greater(t, rate(media, KindP), rate(media, KindB), "B frames go first")
	sk := media.sess.Sender.Kinds
	require.Greater(t, sk[KindB].DroppedBudget, sk[KindP].DroppedBudget, "the sender drops B before P")
	require.Zero(t, sk[KindI].DroppedBudget+sk[KindI].DroppedExpired+sk[KindI].DroppedDependency, "and never I")
	for _, k := range []Kind{KindI, KindP, KindB} {
		require.Zero(t, media.kinds[k].late, "no %s frame played out late", k)
	}
	require.LessOrEqual(t, pct(media.latency, 1), spec.deadline)
	// The baseline's latency grows: its last frames wait far longer than
	// its first, and far longer than the deadline.
	n := len(reliable.latency)
	require.Greater(t, n, 10)
	require.Greater(t, pct(reliable.latency[n*3/4:], .5), 2*pct(reliable.latency[:n/4], .5))
	require.Greater(t, pct(reliable.latency, .99), 4*spec.deadline)
}

// Receiver-report loss and jitter match the emulator's: one packet per
// frame at 50 fps, 5% loss, uniform jitter ±10 ms with reordering allowed.
// For independent uniform delays on [-J, J] the RFC 3550 jitter estimates
// E|D| = 2J/3.
func TestReceiverReportMatchesEmulator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		spec := streamSpec{fps: 50, gop: 1, unit: 80, duration: 40 * time.Second}
		ab := netem.Profile{Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, AllowReorder: true, Loss: 0.05}
		ba := netem.Profile{Delay: 30 * time.Millisecond}
		res := runStream(t, testSeed(3), spec, ab, ba, SenderConfig{NoTailProbe: true},
			ReceiverConfig{PlayoutDelay: 200 * time.Millisecond, ReorderWait: 25 * time.Millisecond})
		pipeLoss := float64(res.pipe.DroppedLoss) / float64(res.pipe.OfferedPackets)
		st := res.rcv.Receiver
		rrLoss := float64(st.CumulativeLost) / float64(st.ExpectedPackets)
		t.Logf("emulator loss %.4f (%d/%d), RR cumulative loss %.4f (%d/%d), sender-seen %d; jitter RR %v (sender view %v), expected %v",
			pipeLoss, res.pipe.DroppedLoss, res.pipe.OfferedPackets, rrLoss, st.CumulativeLost, st.ExpectedPackets,
			res.sess.Sender.ReceiverCumulative, st.Jitter, res.sess.Sender.ReceiverJitter, 20*time.Millisecond/3)
		require.InDelta(t, 0.05, rrLoss, 0.015, "RR loss vs configured 5%")
		require.InDelta(t, pipeLoss, rrLoss, 0.01, "RR loss vs the emulator's actual drops (RTX excluded)")
		require.InDelta(t, float64(20*time.Millisecond/3), float64(st.Jitter), float64(2*time.Millisecond))
		require.InDelta(t, float64(st.Jitter), float64(res.sess.Sender.ReceiverJitter), float64(time.Millisecond), "the sender learns it via RTCP")
	})
}

// testSeed returns def, or RTP_TEST_SEED when set (to sweep seeds by hand).
func testSeed(def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv("RTP_TEST_SEED"), 10, 64); err == nil {
		return v
	}
	return def
}
