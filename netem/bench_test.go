package netem

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPipe pushes 1200-byte packets through one impaired direction
// (1 ms delay, ±100 µs jitter, 1% loss, 0.5% duplication) in real time and
// reports packets/s from first Send to last delivery, and allocs/packet.
// The sender keeps at most benchWindow packets in flight, as a transport
// would (steady state); an open-loop sender that outruns the delivering
// goroutine makes the pipe allocate buffers beyond its pool.
func BenchmarkPipe(b *testing.B) {
	var delivered atomic.Int64
	p, err := NewPipe(Profile{Delay: time.Millisecond, Jitter: 100 * time.Microsecond, Loss: 0.01, Duplicate: 0.005}, 1,
		func(pkt []byte) { delivered.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pkt := make([]byte, 1200)
	// Warm the buffer pool and the heap so the measured loop is steady state.
	for range 4096 {
		p.Send(pkt)
	}
	waitDelivered(p, &delivered)
	base := p.Stats()
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		p.Send(pkt)
		if i%256 == 255 {
			for {
				st := p.Stats()
				if st.InFlight < benchWindow {
					break
				}
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	waitDelivered(p, &delivered)
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "mallocs/pkt")
	b.ReportMetric(float64(p.Stats().InFlight), "inflight")
	st := p.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pkt/s")
	b.ReportMetric(float64(st.DroppedLoss-base.DroppedLoss)/float64(b.N), "loss")
}

// benchWindow bounds the packets in flight in BenchmarkPipe.
const benchWindow = 2048

// waitDelivered spins (real time, benchmark only) until every packet offered
// has been delivered or dropped.
func waitDelivered(p *Pipe, delivered *atomic.Int64) {
	for {
		st := p.Stats()
		if st.InFlight == 0 && uint64(delivered.Load()) == st.DeliveredPackets {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkNetworkConn measures the whole in-memory path: Conn.WriteTo,
// a linked pipe with 1 ms delay, the receive queue and Conn.ReadFrom.
func BenchmarkNetworkConn(b *testing.B) {
	nw := NewNetwork(1)
	defer nw.Close()
	link, err := nw.Link("10.0.0.1", "10.0.0.2", Profile{Delay: time.Millisecond}, Profile{})
	if err != nil {
		b.Fatal(err)
	}
	a, _ := nw.ListenPacket("10.0.0.1:1")
	c, _ := nw.ListenPacket("10.0.0.2:2")
	busy := func() bool { return link.AToB().Stats().InFlight > 0 || len(c.rx) > 0 }
	dst := c.LocalAddr()
	done := make(chan int)
	const window = 512
	go func() {
		buf := make([]byte, 2000)
		n := 0
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				done <- n
				return
			}
			n++
		}
	}()
	pkt := make([]byte, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		a.WriteTo(pkt, dst)
		if i%window == window-1 {
			// Stay below the receive queue: wait for the window to drain.
			for busy() {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	for busy() {
		time.Sleep(50 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pkt/s")
	c.Close()
	if got := <-done; got+int(c.Dropped()) < b.N {
		b.Fatalf("received %d + dropped %d of %d", got, c.Dropped(), b.N)
	}
}
