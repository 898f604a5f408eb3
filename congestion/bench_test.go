package congestion

import (
	"testing"
	"time"
)

// benchmarkController sends and acks one packet per iteration with 100
// packets in flight and a steady 20 µs between packets.
func benchmarkController(b *testing.B, c Controller) {
	now := time.Unix(1000, 0)
	const flight = 100
	for pn := uint64(1); pn <= flight; pn++ {
		c.OnPacketSent(now, pn, 1200, int(pn-1)*1200)
	}
	pn := uint64(flight)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(20 * time.Microsecond)
		pn++
		c.OnPacketSent(now, pn, 1200, (flight-1)*1200)
		c.OnPacketAcked(now, pn-flight, 1200, flight*1200)
		_ = c.CanSend(flight * 1200)
		_ = c.TimeUntilSend(flight * 1200)
	}
}

func BenchmarkNewRenoSentAcked(b *testing.B) {
	benchmarkController(b, NewNewReno(Config{RTT: &fakeRTT{srtt: 20 * time.Millisecond}}))
}

func BenchmarkCubicSentAcked(b *testing.B) {
	benchmarkController(b, NewCubic(Config{RTT: &fakeRTT{srtt: 20 * time.Millisecond}}))
}

func BenchmarkBBRSentAcked(b *testing.B) { benchmarkController(b, NewBBR(Config{})) }

func BenchmarkFixedSentAcked(b *testing.B) { benchmarkController(b, NewFixed(1<<20)) }

func TestControllersDoNotAllocate(t *testing.T) {
	for name, c := range map[string]Controller{
		"reno": NewNewReno(Config{RTT: &fakeRTT{srtt: 20 * time.Millisecond}}), "cubic": NewCubic(Config{}),
		"bbr": NewBBR(Config{}), "fixed": NewFixed(1 << 20),
	} {
		now := time.Unix(1000, 0)
		for pn := uint64(1); pn <= 100; pn++ {
			c.OnPacketSent(now, pn, 1200, int(pn-1)*1200)
		}
		pn := uint64(100)
		allocs := testing.AllocsPerRun(1000, func() {
			now = now.Add(20 * time.Microsecond)
			pn++
			c.OnPacketSent(now, pn, 1200, 99*1200)
			c.OnPacketAcked(now, pn-100, 1200, 100*1200)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per packet", name, allocs)
		}
	}
}
