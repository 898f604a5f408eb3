package icmp_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/skiffnet/skiff/bench/raw/icmp"
	"github.com/skiffnet/skiff/bench/raw/ipv4"
	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/skiffnet/skiff/bench/raw/tunlink"
	"github.com/skiffnet/skiff/netem"
)

func tunHost(t *testing.T) *netns.TUNHost {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
	h, err := netns.NewTUNHost(netns.TUNHostConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// readICMP reads packets from the TUN until one carries ICMP from the kernel.
func readICMP(t *testing.T, h *netns.TUNHost, timeout time.Duration) (ipv4.Header, []byte) {
	t.Helper()
	buf := make([]byte, 4096)
	require.NoError(t, h.TUN.SetReadDeadline(time.Now().Add(timeout)))
	for {
		n, err := h.TUN.Read(buf)
		require.NoError(t, err)
		var ih ipv4.Header
		if _, err := ih.Unmarshal(buf[:n]); err != nil || ih.Protocol != ipv4.ProtocolICMP {
			continue
		}
		p, err := ih.Payload(buf[:n])
		require.NoError(t, err)
		return ih, append([]byte(nil), p...)
	}
}

func TestKernelAnswersOurEcho(t *testing.T) {
	h := tunHost(t)
	for seq := uint16(0); seq < 3; seq++ {
		req := (&icmp.Echo{Type: icmp.TypeEcho, ID: 0x5151, Seq: seq, Data: []byte("skiff echo")}).AppendTo(nil)
		_, err := h.TUN.Write(icmp.AppendPacket(nil, h.Peer, h.Kernel.Addr(), 100+seq, 64, req))
		require.NoError(t, err)
		ih, msg := readICMP(t, h, 3*time.Second)
		require.Equal(t, h.Kernel.Addr(), ih.Src)
		var e icmp.Echo
		_, err = e.Unmarshal(msg)
		require.NoError(t, err)
		require.Equal(t, icmp.Echo{Type: icmp.TypeEchoReply, ID: 0x5151, Seq: seq, Data: []byte("skiff echo")}, e)
	}
	// Negative control: a corrupted ICMP checksum is counted and not answered.
	before, err := h.NS.Counters()
	require.NoError(t, err)
	req := (&icmp.Echo{Type: icmp.TypeEcho, ID: 1, Seq: 1}).AppendTo(nil)
	req[2] ^= 0xff
	_, err = h.TUN.Write(icmp.AppendPacket(nil, h.Peer, h.Kernel.Addr(), 1, 64, req))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		after, err := h.NS.Counters()
		return err == nil && after["Icmp.InCsumErrors"] == before["Icmp.InCsumErrors"]+1
	}, 3*time.Second, 5*time.Millisecond)
}

// serveEcho answers echo requests for h.Peer read from the TUN until it is closed.
func serveEcho(h *netns.TUNHost, r *icmp.Responder) {
	buf, out := make([]byte, 65536), make([]byte, 0, 65536)
	for {
		n, err := h.TUN.Read(buf)
		if err != nil {
			return
		}
		var ok bool
		if out, ok, _ = r.Respond(buf[:n], out[:0]); ok {
			_, _ = h.TUN.Write(out)
		}
	}
}

func TestKernelPingsOurAddress(t *testing.T) {
	h := tunHost(t)
	r := &icmp.Responder{Addr: h.Peer}
	var wg sync.WaitGroup
	wg.Go(func() { serveEcho(h, r) })
	stop := func() { h.TUN.Close(); wg.Wait() }
	defer stop()

	t.Run("ping_socket", func(t *testing.T) {
		fd, err := h.NS.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
		require.NoError(t, err)
		c, err := icmp.PingSocket(fd)
		require.NoError(t, err)
		defer c.Close()
		res, err := icmp.Ping(t.Context(), c, &net.UDPAddr{IP: h.Peer.AsSlice()}, icmp.PingConfig{Count: 5, Interval: 10 * time.Millisecond})
		require.NoError(t, err)
		require.Equal(t, 5, res.Received, "%+v", res)
		require.Zero(t, res.Corrupt)
	})
	t.Run("raw_socket", func(t *testing.T) {
		c, err := h.NS.ListenPacket("ip4:icmp", "0.0.0.0")
		require.NoError(t, err)
		defer c.Close()
		res, err := icmp.Ping(t.Context(), c, &net.IPAddr{IP: h.Peer.AsSlice()}, icmp.PingConfig{Count: 5, Interval: 10 * time.Millisecond, Size: 1000})
		require.NoError(t, err)
		require.Equal(t, 5, res.Received, "%+v", res)
	})
	stop()
	require.GreaterOrEqual(t, r.Answered(), uint64(10))
}

// TestPingAcrossLossyLink pings kernel B from a raw socket in A across the
// netem TUN link: 20% loss and 5 ms delay on A->B, 5 ms back.
func TestPingAcrossLossyLink(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
	l, err := tunlink.New(tunlink.Config{
		AToB: netem.Profile{Delay: 5 * time.Millisecond, Loss: 0.2},
		BToA: netem.Profile{Delay: 5 * time.Millisecond}, Seed: 3})
	require.NoError(t, err)
	defer l.Close()
	c, err := l.A.ListenPacket("ip4:icmp", "0.0.0.0")
	require.NoError(t, err)
	defer c.Close()
	res, err := icmp.Ping(context.Background(), c, &net.IPAddr{IP: l.AddrB.AsSlice()}, icmp.PingConfig{Count: 300, Interval: 2 * time.Millisecond, Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	ab, _ := l.Stats()
	t.Logf("sent %d, received %d, loss %.3f (link dropped %d of %d); rtt min/mean/max %v/%v/%v, jitter %v",
		res.Sent, res.Received, res.Loss(), ab.DroppedLoss, ab.OfferedPackets, res.Min, res.Mean, res.Max, res.Jitter)
	require.InDelta(t, 0.2, res.Loss(), 0.07)
	require.Equal(t, res.Sent-res.Received, int(ab.DroppedLoss))
	require.GreaterOrEqual(t, res.Min, 10*time.Millisecond)
	require.Less(t, res.Mean, 50*time.Millisecond)
}

func TestKernelErrorMessages(t *testing.T) {
	h := tunHost(t)
	udp := func(dst netip.Addr, ttl uint8) []byte {
		u := []byte{0x30, 0x39, 0x27, 0x0f, 0, 12, 0, 0, 'p', 'i', 'n', 'g'} // port 12345 -> 9999
		binary.BigEndian.PutUint16(u[6:], ipv4.TransportChecksum(h.Peer, dst, ipv4.ProtocolUDP, u))
		ih := ipv4.Header{TotalLength: uint16(20 + len(u)), ID: 4242, TTL: ttl, Protocol: ipv4.ProtocolUDP, Src: h.Peer, Dst: dst}
		return append(ih.AppendTo(nil), u...)
	}
	t.Run("port_unreachable", func(t *testing.T) {
		pkt := udp(h.Kernel.Addr(), 64)
		_, err := h.TUN.Write(pkt)
		require.NoError(t, err)
		_, msg := readICMP(t, h, 3*time.Second)
		var e icmp.Error
		_, err = e.Unmarshal(msg)
		require.NoError(t, err)
		require.Equal(t, icmp.TypeDestUnreachable, e.Type)
		require.Equal(t, icmp.CodePortUnreachable, e.Code)
		require.Equal(t, uint16(4242), e.Quoted.ID)
		require.Equal(t, pkt[20:], e.QuotedPayload) // Linux quotes the whole small datagram
	})
	t.Run("ttl_exceeded", func(t *testing.T) {
		require.NoError(t, h.NS.Sysctl("net.ipv4.ip_forward", "1"))
		other := h.Peer.Next() // in the subnet, not the kernel's: forwarded back out the TUN
		_, err := h.TUN.Write(udp(other, 1))
		require.NoError(t, err)
		ih, msg := readICMP(t, h, 3*time.Second)
		require.Equal(t, h.Peer, ih.Dst)
		var e icmp.Error
		_, err = e.Unmarshal(msg)
		require.NoError(t, err)
		require.Equal(t, icmp.TypeTimeExceeded, e.Type)
		require.Equal(t, icmp.CodeTTLExceeded, e.Code)
		require.Equal(t, other, e.Quoted.Dst)
		require.GreaterOrEqual(t, len(e.QuotedPayload), 8)
	})
}
