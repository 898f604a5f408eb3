package skiff

import (
	"context"
	"io"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// BenchmarkLoopbackGoodput measures one session's goodput over loopback
// UDP without impairment, and the allocations per data packet in steady
// state (both endpoints run in this process, so the figure covers sender
// and receiver; the 64 KiB writes and reads themselves do not allocate).
func BenchmarkLoopbackGoodput(b *testing.B) {
	c, s, stop := loopbackPair(b, nil)
	defer stop()
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	done := make(chan int64)
	go func() {
		n, _ := io.CopyBuffer(io.Discard, struct{ io.Reader }{s}, make([]byte, chunk))
		done <- n
	}()
	// Warm up: buffers, pools and the congestion window.
	for i := 0; i < 256; i++ {
		c.Write(buf)
	}
	b.SetBytes(chunk)
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	pk0 := c.Stats().PacketsSent + s.Stats().PacketsSent
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	pk := c.Stats().PacketsSent + s.Stats().PacketsSent - pk0
	if pk > 0 {
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(pk), "allocs/pkt")
	}
	c.Close()
	<-done
}

// BenchmarkIdleSessionMemory measures the memory of an established idle
// session: heap and goroutine stacks of both ends (the client's includes
// its transport's reader goroutine and buffer), divided by the number of
// sessions; the emulator's sockets are excluded.
func BenchmarkIdleSessionMemory(b *testing.B) {
	for _, cc := range []string{"bbr", "reno"} {
		// A short keepalive so that heartbeats have run when memory is read.
		b.Run(cc, func(b *testing.B) { benchIdleMemory(b, &Config{Congestion: cc, KeepAlive: 20 * time.Millisecond}) })
	}
}

func benchIdleMemory(b *testing.B, cfg *Config) {
	const pairs = 200
	for i := 0; i < b.N; i++ {
		n := netem.NewNetwork(1)
		spc, err := n.ListenPacket(serverHost + ":5000")
		require.NoError(b, err)
		l, err := Listen(spc, cfg)
		require.NoError(b, err)
		// The emulator's sockets are not part of a session: make them first.
		var pcs []*netem.Conn
		for k := 0; k < pairs; k++ {
			cpc, err := n.ListenPacket(clientHost + ":0")
			require.NoError(b, err)
			pcs = append(pcs, cpc)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var ss []*Session
		for _, cpc := range pcs {
			c, err := Dial(context.Background(), cpc, spc.LocalAddr(), cfg)
			require.NoError(b, err)
			s, err := l.AcceptSession(context.Background())
			require.NoError(b, err)
			ss = append(ss, c, s)
		}
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		stack := float64(after.StackInuse) - float64(before.StackInuse)
		b.ReportMetric((heap+stack)/float64(2*pairs), "B/session")
		b.ReportMetric(heap/float64(2*pairs), "heapB/session")
		b.ReportMetric(stack/float64(2*pairs), "stackB/session")
		for _, x := range ss {
			x.Abort()
		}
		l.Close()
		for _, p := range pcs {
			p.Close()
		}
		n.Close()
		spc.Close()
	}
}

// TestFakeTimeGoodput reports the goodput of one session over netem
// (50 Mbit/s, 20 ms RTT, 5% random loss each way) in fake time, as a
// fraction of (1 − loss) × bandwidth, for each recovery strategy.
func TestFakeTimeGoodput(t *testing.T) {
	size := 16 << 20
	if raceEnabled || testing.Short() {
		size = 2 << 20
	}
	for _, r := range []Recovery{RecoveryRTO, RecoveryNACK} {
		t.Run(r.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 256 << 10, Loss: 0.05}
				cfg := &Config{Recovery: r}
				e := newNetemEnv(t, 42, p, p, cfg, cfg)
				data := randomData(size, 1)
				start := time.Now()
				got := sendAll(t, e.c, e.s, data)
				el := time.Since(start)
				requireSameData(t, data, got)
				goodput := float64(size) * 8 / el.Seconds()
				frac := goodput / ((1 - 0.05) * 50e6)
				t.Logf("%s: %d MiB in %v fake time: goodput %.1f Mbit/s = %.2f of (1-loss)·bandwidth",
					r, size>>20, el.Round(time.Millisecond), goodput/1e6, frac)
				require.Greater(t, frac, 0.5)
				e.close(t)
			})
		})
	}
}
