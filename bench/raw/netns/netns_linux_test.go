package netns

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func needRoot(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
}

// udpPacket builds an IPv4/UDP packet with correct checksums.
func udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	udp := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	udp = append(udp, payload...)
	binary.BigEndian.PutUint16(udp[6:], ipv4.TransportChecksum(src.Addr(), dst.Addr(), ipv4.ProtocolUDP, udp))
	h := ipv4.Header{TotalLength: uint16(20 + len(udp)), ID: 7, TTL: 64, Protocol: ipv4.ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}
	return append(h.AppendTo(nil), udp...)
}

func TestTUNHostUDPBothWays(t *testing.T) {
	needRoot(t)
	h, err := NewTUNHost(TUNHostConfig{})
	require.NoError(t, err)
	defer h.Close()

	kernel := netip.AddrPortFrom(h.Kernel.Addr(), 4000)
	peer := netip.AddrPortFrom(h.Peer, 5000)
	pc, err := h.NS.ListenPacket("udp4", kernel.String())
	require.NoError(t, err)
	defer pc.Close()

	// user space -> kernel
	_, err = h.TUN.Write(udpPacket(peer, kernel, []byte("hello kernel")))
	require.NoError(t, err)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(3*time.Second)))
	buf := make([]byte, 2048)
	n, from, err := pc.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "hello kernel", string(buf[:n]))
	require.Equal(t, peer.String(), from.String())

	// kernel -> user space
	_, err = pc.WriteTo([]byte("hello tun"), net.UDPAddrFromAddrPort(peer))
	require.NoError(t, err)
	require.NoError(t, h.TUN.SetReadDeadline(time.Now().Add(3*time.Second)))
	for {
		n, err = h.TUN.Read(buf)
		require.NoError(t, err)
		var ih ipv4.Header
		if _, err := ih.Unmarshal(buf[:n]); err != nil || ih.Protocol != ipv4.ProtocolUDP {
			continue
		}
		p, err := ih.Payload(buf[:n])
		require.NoError(t, err)
		require.True(t, ipv4.VerifyTransportChecksum(ih.Src, ih.Dst, ipv4.ProtocolUDP, p))
		require.Equal(t, "hello tun", string(p[8:]))
		break
	}

	// negative control: a corrupted UDP checksum is counted, not delivered.
	before, err := h.NS.Counters()
	require.NoError(t, err)
	bad := udpPacket(peer, kernel, []byte("bad"))
	bad[len(bad)-1] ^= 0xff
	_, err = h.TUN.Write(bad)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		after, err := h.NS.Counters()
		return err == nil && after["Udp.InCsumErrors"] == before["Udp.InCsumErrors"]+1
	}, 3*time.Second, 5*time.Millisecond)
}

func TestVethPair(t *testing.T) {
	needRoot(t)
	a, err := New("a")
	require.NoError(t, err)
	defer a.Close()
	b, err := New("b")
	require.NoError(t, err)
	defer b.Close()
	na, nb := UniqueName("va"), UniqueName("vb")
	require.NoError(t, NewVeth(a, na, b, nb))
	require.NoError(t, a.Configure(na, netip.MustParsePrefix("10.202.0.1/24"), 0))
	require.NoError(t, b.Configure(nb, netip.MustParsePrefix("10.202.0.2/24"), 0))
	require.NoError(t, a.WaitRunning(na, 5*time.Second))
	require.NoError(t, b.WaitRunning(nb, 5*time.Second))

	pc, err := b.ListenPacket("udp4", "10.202.0.2:4000")
	require.NoError(t, err)
	defer pc.Close()
	c, err := a.Dial(t.Context(), nil, "udp4", "10.202.0.2:4000")
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("across"))
	require.NoError(t, err)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(3*time.Second)))
	buf := make([]byte, 64)
	n, _, err := pc.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "across", string(buf[:n]))
	// The two namespaces are separate: a's interface is not in b.
	_, err = b.InterfaceByName(na)
	require.Error(t, err)
}

func TestClosedNS(t *testing.T) {
	needRoot(t)
	n, err := New("x")
	require.NoError(t, err)
	require.NoError(t, n.Close())
	require.NoError(t, n.Close())
	require.ErrorIs(t, n.Do(func() error { return nil }), ErrClosed)
}

func TestParseSNMP(t *testing.T) {
	c := Counters{}
	require.NoError(t, parseSNMP(c, "Ip: Forwarding ReasmOKs\nIp: 1 5\nTcp: MaxConn\nTcp: -1\n"))
	require.Equal(t, int64(5), c["Ip.ReasmOKs"])
	require.Equal(t, int64(-1), c["Tcp.MaxConn"])
	require.Error(t, parseSNMP(Counters{}, "Ip: A B\nIp: 1\n"))
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName("averyveryverylongprefix"), UniqueName("x")
	require.LessOrEqual(t, len(a), 15)
	require.NotEqual(t, a, b)
}

func TestTUNHostFailsCleanly(t *testing.T) {
	needRoot(t)
	_, err := NewTUNHost(TUNHostConfig{Name: "this-name-is-far-too-long-for-an-interface"})
	require.Error(t, err)
	_, err = NewTUNHost(TUNHostConfig{MTU: 10})
	require.Error(t, err)
	_, err = NewTUNHost(TUNHostConfig{Kernel: netip.MustParsePrefix("10.1.0.1/24"), Peer: netip.MustParseAddr("10.2.0.1")})
	require.Error(t, err)
	// goleak (TestMain) checks that no namespace thread is left.
}
