package tunlink

import (
	"math"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/skiffnet/skiff/netem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func needRoot(t testing.TB) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
}

func TestLinkUDPBothWays(t *testing.T) {
	needRoot(t)
	l, err := New(Config{AToB: netem.Profile{Delay: 10 * time.Millisecond}})
	require.NoError(t, err)
	defer l.Close()
	pb, err := l.B.ListenPacket("udp4", netip.AddrPortFrom(l.AddrB, 4000).String())
	require.NoError(t, err)
	defer pb.Close()
	pa, err := l.A.ListenPacket("udp4", netip.AddrPortFrom(l.AddrA, 4000).String())
	require.NoError(t, err)
	defer pa.Close()

	start := time.Now()
	_, err = pa.WriteTo([]byte("a to b"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.AddrB, 4000)))
	require.NoError(t, err)
	buf := make([]byte, 100)
	require.NoError(t, pb.SetReadDeadline(time.Now().Add(3*time.Second)))
	n, from, err := pb.ReadFrom(buf)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 10*time.Millisecond, "the AToB delay applies")
	require.Equal(t, "a to b", string(buf[:n]))
	_, err = pb.WriteTo([]byte("b to a"), from)
	require.NoError(t, err)
	require.NoError(t, pa.SetReadDeadline(time.Now().Add(3*time.Second)))
	n, _, err = pa.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "b to a", string(buf[:n]))
	require.Eventually(t, func() bool { // the pipe counts a delivery after its deliver call returns
		ab, ba := l.Stats()
		return ab.DeliveredPackets >= 1 && ba.DeliveredPackets >= 1
	}, 3*time.Second, time.Millisecond)
}

// TestResetReusesLink checks that Reset swaps in new pipes: the new profile
// applies (a link that drops everything, then a clean one), counters start
// from zero, and a bad profile is rejected without touching the link.
func TestResetReusesLink(t *testing.T) {
	needRoot(t)
	l, err := New(Config{})
	require.NoError(t, err)
	defer l.Close()
	pb, err := l.B.ListenPacket("udp4", netip.AddrPortFrom(l.AddrB, 4001).String())
	require.NoError(t, err)
	defer pb.Close()
	pa, err := l.A.ListenPacket("udp4", netip.AddrPortFrom(l.AddrA, 4001).String())
	require.NoError(t, err)
	defer pa.Close()
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.AddrB, 4001))
	buf := make([]byte, 100)

	require.NoError(t, l.Reset(netem.Profile{Loss: 1}, netem.Profile{}, 7))
	_, err = pa.WriteTo([]byte("dropped"), to)
	require.NoError(t, err)
	require.Eventually(t, func() bool { ab, _ := l.Stats(); return ab.DroppedLoss == 1 }, 3*time.Second, time.Millisecond)

	require.Error(t, l.Reset(netem.Profile{Loss: 2}, netem.Profile{}, 7), "invalid profile")
	require.NoError(t, l.Reset(netem.Profile{Delay: 5 * time.Millisecond}, netem.Profile{}, 8))
	ab, _ := l.Stats()
	require.Zero(t, ab.OfferedPackets, "a reset link counts from zero")
	_, err = pa.WriteTo([]byte("delivered"), to)
	require.NoError(t, err)
	require.NoError(t, pb.SetReadDeadline(time.Now().Add(3*time.Second)))
	n, _, err := pb.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "delivered", string(buf[:n]))
}

func TestNewFailsCleanly(t *testing.T) {
	needRoot(t)
	_, err := New(Config{BToA: netem.Profile{Loss: 2}})
	require.Error(t, err)
	_, err = New(Config{MTU: 20})
	require.Error(t, err)
	_, err = New(Config{Prefix: netip.MustParsePrefix("10.0.0.0/31")})
	require.Error(t, err)
	// goleak in TestMain checks that no forwarder or namespace thread is left.
}

// TestKernelTCPAtFivePercentLoss is the acceptance test: 8 MiB of
// kernel TCP across the link at 5% loss each way arrive intact, and the
// measured loss matches the profile.
func TestKernelTCPAtFivePercentLoss(t *testing.T) {
	needRoot(t)
	p := netem.Profile{Delay: 2 * time.Millisecond, Loss: 0.05}
	l, err := New(Config{AToB: p, BToA: p, Seed: 42})
	require.NoError(t, err)
	defer l.Close()
	res, err := l.RunTCP(t.Context(), TCPConfig{Bytes: 8 << 20})
	require.NoError(t, err)
	require.True(t, res.Intact)
	require.Equal(t, int64(8<<20), res.Bytes)
	for name, s := range map[string]netem.Stats{"AToB": res.AToB, "BToA": res.BToA} {
		loss := float64(s.DroppedLoss) / float64(s.OfferedPackets)
		sigma := math.Sqrt(0.05 * 0.95 / float64(s.OfferedPackets))
		t.Logf("%s: %d offered, %d lost (%.4f, 5σ=%.4f)", name, s.OfferedPackets, s.DroppedLoss, loss, 5*sigma)
		require.Greater(t, s.OfferedPackets, uint64(1000), name)
		require.InDelta(t, 0.05, loss, 5*sigma, name)
	}
	t.Logf("8 MiB in %v (%.1f Mbit/s) with %s", res.Duration, res.Goodput()/1e6, res.Congestion)
}

func TestKernelTCPCongestionControls(t *testing.T) {
	needRoot(t)
	l, err := New(Config{AToB: netem.Profile{Delay: 5 * time.Millisecond, Loss: 0.01}, BToA: netem.Profile{Delay: 5 * time.Millisecond}, Seed: 7})
	require.NoError(t, err)
	defer l.Close()
	avail, err := CongestionControls(l.A)
	require.NoError(t, err)
	t.Logf("available in a namespace: %v", avail)
	require.Contains(t, avail, "reno")
	for i, cc := range []string{"reno", "cubic", "bbr"} {
		if !slices.Contains(avail, cc) {
			t.Logf("%s not offered by this kernel", cc)
			continue
		}
		res, err := l.RunTCP(t.Context(), TCPConfig{Bytes: 1 << 20, Congestion: cc, Port: uint16(6000 + i)})
		require.NoError(t, err, cc)
		require.Equal(t, cc, res.Congestion)
		t.Logf("%s: 1 MiB in %v (%.1f Mbit/s), AToB lost %d of %d", cc, res.Duration, res.Goodput()/1e6, res.AToB.DroppedLoss, res.AToB.OfferedPackets)
	}
	_, err = l.RunTCP(t.Context(), TCPConfig{Bytes: 1000, Congestion: "no-such-cc", Port: 6009})
	require.Error(t, err)
}

func BenchmarkTUNLinkTCPThroughput(b *testing.B) {
	needRoot(b)
	l, err := New(Config{})
	require.NoError(b, err)
	defer l.Close()
	const size = 16 << 20
	b.SetBytes(size)
	var d time.Duration
	for i := 0; b.Loop(); i++ {
		res, err := l.RunTCP(b.Context(), TCPConfig{Bytes: size, Port: uint16(7000 + i%1000)})
		if err != nil {
			b.Fatal(err)
		}
		d += res.Duration
	}
	ab, _ := l.Stats()
	b.ReportMetric(float64(ab.DeliveredPackets)/d.Seconds(), "pkts/s")
}

// TestKernelTCPBottleneck: a 20 Mbit/s bottleneck caps kernel TCP goodput,
// the shape the comparison benchmark relies on.
func TestKernelTCPBottleneck(t *testing.T) {
	needRoot(t)
	p := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 20e6, QueueBytes: 100_000}
	res, err := RunKernelTCP(t.Context(), Config{AToB: p, BToA: netem.Profile{Delay: 10 * time.Millisecond}, Seed: 5},
		TCPConfig{Bytes: 4 << 20, Congestion: "cubic"})
	require.NoError(t, err)
	t.Logf("4 MiB in %v: %.1f Mbit/s, %d queue drops", res.Duration, res.Goodput()/1e6, res.AToB.DroppedQueue)
	require.Less(t, res.Goodput(), 20.5e6)
	require.Greater(t, res.Goodput(), 8e6)
}
