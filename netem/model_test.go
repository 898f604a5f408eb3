package netem

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// arrival is one delivered packet as a test sees it.
type arrival struct {
	seq uint64
	at  time.Duration // since the recorder's start
	pkt []byte        // kept only when keep is set
}

// recorder collects what a pipe delivers. Packets carry their sequence
// number in the first 8 bytes.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	keep  bool
	got   []arrival
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

func (r *recorder) deliver(pkt []byte) {
	a := arrival{seq: binary.BigEndian.Uint64(pkt), at: time.Since(r.start)}
	if r.keep {
		a.pkt = append([]byte(nil), pkt...)
	}
	r.mu.Lock()
	r.got = append(r.got, a)
	r.mu.Unlock()
}

func (r *recorder) arrivals() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.got...)
}

func seqPacket(buf []byte, seq uint64) []byte {
	binary.BigEndian.PutUint64(buf, seq)
	return buf
}

// sendAll offers n packets of size bytes, 1000 per fake millisecond, and
// waits (in fake time) until everything has been released.
func sendAll(t *testing.T, p *Pipe, n, size int, drain time.Duration) {
	t.Helper()
	buf := make([]byte, size)
	for i := 0; i < n; i++ {
		p.Send(seqPacket(buf, uint64(i)))
		if i%1000 == 999 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(drain)
	synctest.Wait()
}

const modelPackets = 200_000

// simulate drives the pure link model directly in model time (the same
// linkModel a Pipe runs, without its goroutine): packet i, carrying its
// sequence number, is offered at i*gap, and every release due before the
// next offer is collected. Arrival times are release times.
func simulate(t *testing.T, p Profile, seed int64, n, size int, gap time.Duration, keep bool) ([]arrival, Stats) {
	t.Helper()
	require.NoError(t, p.Validate())
	m := newLinkModel(p, seed)
	buf := make([]byte, size)
	got := make([]arrival, 0, n)
	collect := func(now int64) {
		for {
			pkt, ok := m.popDue(now)
			if !ok {
				return
			}
			a := arrival{seq: binary.BigEndian.Uint64(pkt.buf), at: time.Duration(pkt.at)}
			if keep {
				a.pkt = append([]byte(nil), pkt.buf...)
			}
			got = append(got, a)
			m.stats.DeliveredPackets++
			m.stats.DeliveredBytes += uint64(len(pkt.buf))
			m.putBuf(pkt.buf)
		}
	}
	for i := 0; i < n; i++ {
		now := int64(i) * int64(gap)
		collect(now)
		m.offer(now, seqPacket(buf, uint64(i)), meta{})
	}
	collect(math.MaxInt64)
	return got, m.snapshot()
}

func TestBernoulliLossRate(t *testing.T) {
	for _, loss := range []float64{0.01, 0.05, 0.3} {
		got, st := simulate(t, Profile{Loss: loss}, 42, modelPackets, 100, 0, false)
		measured := float64(st.DroppedLoss) / float64(st.OfferedPackets)
		t.Logf("loss %.3f measured %.4f", loss, measured)
		require.InDelta(t, loss, measured, 0.005)
		require.Equal(t, st.OfferedPackets-st.DroppedLoss, st.DeliveredPackets)
		require.Len(t, got, int(st.DeliveredPackets))
	}
}

// TestBernoulliLossRateThroughPipe runs the same model through a Pipe in a
// synctest bubble: the goroutine, timer and counters agree with the model.
func TestBernoulliLossRateThroughPipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		p, err := NewPipe(Profile{Loss: 0.05, Delay: time.Millisecond}, 42, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		sendAll(t, p, modelPackets/2, 100, time.Second)
		st := p.Stats()
		require.InDelta(t, 0.05, float64(st.DroppedLoss)/float64(st.OfferedPackets), 0.005)
		require.Equal(t, st.OfferedPackets-st.DroppedLoss, st.DeliveredPackets)
		require.Len(t, rec.arrivals(), int(st.DeliveredPackets))
		// The pipe and the bare model make the same decisions.
		_, model := simulate(t, Profile{Loss: 0.05, Delay: time.Millisecond}, 42, modelPackets/2, 100, time.Microsecond, false)
		require.Equal(t, model.DroppedLoss, st.DroppedLoss)
	})
}

// lossBursts returns the lengths of runs of consecutive missing sequence
// numbers among n sent.
func lossBursts(got []arrival, n int) []int {
	seen := make([]bool, n)
	for _, a := range got {
		seen[a.seq] = true
	}
	var bursts []int
	run := 0
	for _, s := range seen {
		if !s {
			run++
			continue
		}
		if run > 0 {
			bursts = append(bursts, run)
		}
		run = 0
	}
	if run > 0 {
		bursts = append(bursts, run)
	}
	return bursts
}

func TestGilbertElliottBurstLength(t *testing.T) {
	fromLoss, err := GilbertElliottFromLoss(0.05, 4)
	require.NoError(t, err)
	cases := []struct {
		name      string
		ge        GilbertElliott
		loss      float64
		meanBurst float64
	}{
		{"from_loss_rate_and_burst", fromLoss, 0.05, 4},
		// By transition probabilities: the Bad state lasts 1/0.5 = 2 packets,
		// all lost; loss = 0.02/(0.02+0.5).
		{"from_transition_probabilities", GilbertElliott{PGoodToBad: 0.02, PBadToGood: 0.5, LossInBad: 1}, 0.02 / 0.52, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, st := simulate(t, Profile{Burst: &tc.ge}, 7, modelPackets, 64, 0, false)
			bursts := lossBursts(got, modelPackets)
			sum := 0
			for _, b := range bursts {
				sum += b
			}
			mean := float64(sum) / float64(len(bursts))
			rate := float64(st.DroppedBurst) / float64(st.OfferedPackets)
			t.Logf("bursts %d mean %.3f (want %.1f), loss %.4f (want %.4f)", len(bursts), mean, tc.meanBurst, rate, tc.loss)
			require.InEpsilon(t, tc.meanBurst, mean, 0.10)
			require.InDelta(t, tc.loss, rate, 0.005)
			require.Equal(t, uint64(sum), st.DroppedBurst)
		})
	}
}

func meanStd(xs []float64) (float64, float64) {
	var s, s2 float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	for _, x := range xs {
		s2 += (x - m) * (x - m)
	}
	return m, math.Sqrt(s2 / float64(len(xs)-1))
}

func TestDelayMeanAndStdDev(t *testing.T) {
	const delay, jitter = 50 * time.Millisecond, 10 * time.Millisecond
	cases := []struct {
		name    string
		dist    Distribution
		wantStd time.Duration
	}{
		{"uniform", JitterUniform, time.Duration(float64(jitter) / math.Sqrt(3))},
		{"normal", JitterNormal, jitter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Packets offered every 100 µs; delay = arrival - offer time.
			const gap = 100 * time.Microsecond
			got, _ := simulate(t, Profile{Delay: delay, Jitter: jitter, JitterDist: tc.dist, AllowReorder: true}, 3, modelPackets, 16, gap, false)
			require.Len(t, got, modelPackets)
			ds := make([]float64, len(got))
			for i, a := range got {
				ds[i] = float64(a.at - time.Duration(a.seq)*gap)
			}
			m, sd := meanStd(ds)
			t.Logf("%s: mean %v std %v", tc.name, time.Duration(m), time.Duration(sd))
			require.InEpsilon(t, float64(delay), m, 0.05)
			require.InEpsilon(t, float64(tc.wantStd), sd, 0.05)
		})
	}
}

// TestDelayThroughPipeInFakeTime checks the same figures end to end: a Pipe
// in a synctest bubble delivers each packet at exactly its model release
// time, so fake-time arrival times match the model's.
func TestDelayThroughPipeInFakeTime(t *testing.T) {
	const n, gap = 20_000, 100 * time.Microsecond
	prof := Profile{Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, JitterDist: JitterNormal, AllowReorder: true}
	want, _ := simulate(t, prof, 3, n, 16, gap, false)
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		p, err := NewPipe(prof, 3, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		buf := make([]byte, 16)
		for i := 0; i < n; i++ {
			p.Send(seqPacket(buf, uint64(i)))
			time.Sleep(gap)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, want, rec.arrivals())
	})
}

// reorderings counts arrivals whose sequence number is below one delivered
// before them.
func reorderings(got []arrival) int {
	n := 0
	var hi uint64
	for i, a := range got {
		if i > 0 && a.seq < hi {
			n++
		}
		hi = max(hi, a.seq)
	}
	return n
}

func TestReorderingOnlyWhenAllowed(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow_%v", allow), func(t *testing.T) {
			// 10 packets/ms, jitter ±5 ms.
			const n = modelPackets
			prof := Profile{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, AllowReorder: allow}
			got, _ := simulate(t, prof, 11, n, 32, 100*time.Microsecond, false)
			require.Len(t, got, n)
			r := reorderings(got)
			t.Logf("allow=%v reordered %d of %d", allow, r, n)
			if allow {
				require.Greater(t, r, n/10)
			} else {
				require.Zero(t, r)
				for i := 1; i < len(got); i++ {
					if got[i].at < got[i-1].at {
						t.Fatalf("packet %d released at %v before packet %d at %v", got[i].seq, got[i].at, got[i-1].seq, got[i-1].at)
					}
				}
			}
		})
	}
}

func TestDuplicationAndCorruptionRates(t *testing.T) {
	{
		const size = 64
		got, st := simulate(t, Profile{Duplicate: 0.02, Corrupt: 0.03}, 5, modelPackets, size, 0, true)
		require.InDelta(t, 0.02, float64(st.Duplicated)/modelPackets, 0.005)
		require.InDelta(t, 0.03, float64(st.Corrupted)/modelPackets, 0.005)
		require.Len(t, got, modelPackets+int(st.Duplicated))
		require.Equal(t, st.DeliveredPackets, uint64(len(got)))

		// A corrupted packet differs from what was sent in exactly one bit
		// (the sequence number itself may be the flipped bit, so count over
		// the whole packet against the zero payload).
		flipped := 0
		for _, a := range got {
			bits := 0
			for i, b := range a.pkt {
				if i >= 8 {
					bits += popcount(b)
				}
			}
			if bits > 1 {
				t.Fatalf("packet %d has %d flipped bits", a.seq, bits)
			}
			flipped += bits
		}
		// Flips landing in the sequence-number bytes are invisible here:
		// expect about (size-8)/size of the corrupted deliveries.
		want := float64(st.Corrupted) * (size - 8) / size * (1 + 0.02)
		require.InEpsilon(t, want, float64(flipped), 0.1)
	}
}

func popcount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}
