package netem

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// offerAtRate sends n packets of size bytes at rate bits/s in bursts every
// 10 ms (fake time), then waits for the link to drain. It returns each
// packet's send time since the call.
func offerAtRate(t *testing.T, p *Pipe, n, size int, rate float64, onTick func()) []time.Duration {
	t.Helper()
	start := time.Now()
	sentAt := make([]time.Duration, 0, n)
	perTick := rate * 0.010 / float64(size*8)
	buf := make([]byte, size)
	sent, owed := 0, 0.0
	for sent < n {
		owed += perTick
		for ; owed >= 1 && sent < n; owed-- {
			p.Send(seqPacket(buf, uint64(sent)))
			sentAt = append(sentAt, time.Since(start))
			sent++
		}
		if onTick != nil {
			onTick()
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(5 * time.Second)
	synctest.Wait()
	return sentAt
}

// deliveredRate is the rate between the first and the last arrival.
func deliveredRate(got []arrival, size int) float64 {
	span := got[len(got)-1].at - got[0].at
	return float64((len(got)-1)*size*8) / span.Seconds()
}

func TestBottleneckRateAndQueueOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			bw    = 10_000_000
			size  = 1250
			queue = 30_000 // 24 packets = 24 ms at 10 Mbit/s
			n     = 100_000
		)
		rec := newRecorder()
		p, err := NewPipe(Profile{Bandwidth: bw, QueueBytes: queue, Delay: 10 * time.Millisecond}, 1, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		maxQueue := 0
		sentAt := offerAtRate(t, p, n, size, 12_000_000, func() {
			st := p.Stats()
			require.LessOrEqual(t, st.QueueBytes, queue)
			maxQueue = max(maxQueue, st.QueueBytes)
		})
		got := rec.arrivals()
		st := p.Stats()
		rate := deliveredRate(got, size)
		t.Logf("delivered %.3f Mbit/s, dropped by queue %d of %d, max queue %d", rate/1e6, st.DroppedQueue, n, maxQueue)
		require.InEpsilon(t, bw, rate, 0.02)
		// Offered 12 Mbit/s into 10: a sixth of the packets overflow.
		require.InDelta(t, 1.0/6, float64(st.DroppedQueue)/n, 0.01)
		require.Equal(t, uint64(n), st.DeliveredPackets+st.DroppedQueue)
		require.Greater(t, maxQueue, queue-2*size)
		require.Zero(t, st.QueueBytes)
		require.Zero(t, st.InFlight)
		// The worst one-way delay is the queue's drain time (24 packets of
		// 1 ms), the rest of the packet in service, its own serialisation
		// and the propagation delay.
		var worst time.Duration
		for _, a := range got {
			worst = max(worst, a.at-sentAt[a.seq])
		}
		t.Logf("worst one-way delay %v", worst)
		require.LessOrEqual(t, worst, 36*time.Millisecond)
		require.GreaterOrEqual(t, worst, 33*time.Millisecond)
	})
}

func TestBottleneckSerialisationDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		// 1 Mbit/s: a 1250-byte packet takes 10 ms.
		p, err := NewPipe(Profile{Bandwidth: 1_000_000, QueueBytes: 2500, Delay: 5 * time.Millisecond}, 1, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		sendAll(t, p, 5, 1250, time.Second) // 1 in service, 2 queued, 2 dropped
		got := rec.arrivals()
		require.Len(t, got, 3)
		for i, want := range []time.Duration{15, 25, 35} {
			require.Equal(t, want*time.Millisecond, got[i].at)
		}
		require.Equal(t, uint64(2), p.Stats().DroppedQueue)
	})
}

func TestSetProfileBandwidthDropAndLinkDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const size = 1000
		rec := newRecorder()
		up := Profile{Bandwidth: 8_000_000, QueueBytes: 20_000}
		p, err := NewPipe(up, 1, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		tick := 0
		// 2000 packets/s offered for 7.5 s.
		offerAtRate(t, p, 15_000, size, 16_000_000, func() {
			tick++
			switch tick {
			case 100: // 0.99 s: the bandwidth drops to 2 Mbit/s mid-transfer
				require.NoError(t, p.SetProfile(Profile{Bandwidth: 2_000_000, QueueBytes: 20_000}))
			case 150: // 1.49 s: the link goes down for 5 s
				down := p.Profile()
				down.Down = true
				require.NoError(t, p.SetProfile(down))
			case 650: // 6.49 s: back up
				require.NoError(t, p.SetProfile(up))
			}
		})
		got := rec.arrivals()
		count := func(from, to time.Duration) int {
			k := 0
			for _, a := range got {
				if a.at >= from && a.at < to {
					k++
				}
			}
			return k
		}
		// 8 Mbit/s = 1000 packets/s, 2 Mbit/s = 250 packets/s.
		require.InDelta(t, 500, count(200*time.Millisecond, 700*time.Millisecond), 5)
		require.InDelta(t, 100, count(1100*time.Millisecond, 1500*time.Millisecond), 5)
		require.Zero(t, count(1500*time.Millisecond, 6490*time.Millisecond), "down: the queue was dropped, nothing new entered")
		require.InDelta(t, 500, count(6700*time.Millisecond, 7200*time.Millisecond), 5)
		// 5 s at 2000 packets/s offered, plus the 20 queued packets.
		require.Equal(t, uint64(10_020), p.Stats().DroppedDown)
	})
}

func TestTraceDrivenDelivery(t *testing.T) {
	tr, err := ParseMahimahi(strings.NewReader("# 3 opportunities per 4 ms\n1\n1\n3\n4\n"))
	require.NoError(t, err)
	require.Equal(t, 4*time.Millisecond, tr.period())
	// 4 × 1500 bytes per 4 ms = 12 Mbit/s.
	require.InDelta(t, 12e6, tr.Rate(), 1)

	t.Run("opportunity_times", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			p, err := NewPipe(Profile{Trace: tr}, 1, rec.deliver)
			require.NoError(t, err)
			defer p.Close()
			sendAll(t, p, 6, 1500, time.Second)
			got := rec.arrivals()
			require.Len(t, got, 6)
			for i, want := range []time.Duration{1, 1, 3, 4, 5, 5} {
				require.Equal(t, want*time.Millisecond, got[i].at, "packet %d", i)
			}
		})
	})
	t.Run("small_packets_share_an_opportunity", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			p, err := NewPipe(Profile{Trace: tr}, 1, rec.deliver)
			require.NoError(t, err)
			defer p.Close()
			sendAll(t, p, 8, 500, time.Second) // 3 per opportunity
			got := rec.arrivals()
			for i, want := range []time.Duration{1, 1, 1, 1, 1, 1, 3, 3} {
				require.Equal(t, want*time.Millisecond, got[i].at, "packet %d", i)
			}
		})
	})
	t.Run("long_run_rate", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			p, err := NewPipe(Profile{Trace: tr, QueueBytes: 30_000}, 1, rec.deliver)
			require.NoError(t, err)
			defer p.Close()
			offerAtRate(t, p, 20_000, 1500, 15e6, nil)
			rate := deliveredRate(rec.arrivals(), 1500)
			require.InEpsilon(t, 12e6, rate, 0.02)
			require.NotZero(t, p.Stats().DroppedQueue)
		})
	})
}

func TestSlottingReleasesInBursts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		p, err := NewPipe(Profile{Delay: 3 * time.Millisecond, Slot: 10 * time.Millisecond}, 1, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		buf := make([]byte, 16)
		for i := 0; i < 100; i++ {
			p.Send(seqPacket(buf, uint64(i)))
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := rec.arrivals()
		require.Len(t, got, 100)
		for _, a := range got {
			require.Zero(t, a.at%(10*time.Millisecond), "released at %v", a.at)
			require.Less(t, a.at-time.Duration(a.seq)*time.Millisecond, 13*time.Millisecond)
		}
	})
}

func TestMTUAndScriptedDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		p, err := NewPipe(Profile{MTU: 100}, 1, rec.deliver)
		require.NoError(t, err)
		defer p.Close()
		odd := func(pkt []byte) bool { return pkt[7]%2 == 1 }
		p.DropNth(3, odd) // drops seq 5
		p.DropNth(1, nil) // drops seq 0
		buf := make([]byte, 200)
		for i := 0; i < 10; i++ {
			size := 50
			if i == 8 {
				size = 101
			}
			p.Send(seqPacket(buf[:size], uint64(i)))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		var seqs []uint64
		for _, a := range rec.arrivals() {
			seqs = append(seqs, a.seq)
		}
		require.Equal(t, []uint64{1, 2, 3, 4, 6, 7, 9}, seqs)
		st := p.Stats()
		require.Equal(t, uint64(1), st.DroppedMTU)
		require.Equal(t, uint64(2), st.DroppedScript)
	})
}
