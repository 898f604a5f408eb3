package arp

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff/bench/raw/netns"
)

// vethPair builds namespaces A and B joined by a veth pair: kernel A at
// 10.204.0.1/24, kernel B at 10.204.0.2/24; our Host owns 10.204.0.3 on A's end.
func vethPair(t *testing.T) (a, b *netns.NS, na, nb string) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
	var err error
	a, err = netns.New("arpA")
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	b, err = netns.New("arpB")
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	require.NoError(t, a.Prepare())
	require.NoError(t, b.Prepare())
	na, nb = netns.UniqueName("arpa"), netns.UniqueName("arpb")
	require.NoError(t, netns.NewVeth(a, na, b, nb))
	require.NoError(t, a.Configure(na, netip.MustParsePrefix("10.204.0.1/24"), 0))
	require.NoError(t, b.Configure(nb, netip.MustParsePrefix("10.204.0.2/24"), 0))
	require.NoError(t, a.WaitRunning(na, 5*time.Second))
	require.NoError(t, b.WaitRunning(nb, 5*time.Second))
	return a, b, na, nb
}

func listenIn(t *testing.T, ns *netns.NS, ifname string) *Conn {
	t.Helper()
	var c *Conn
	require.NoError(t, ns.Do(func() (err error) { c, err = Listen(ifname); return err }))
	return c
}

// kernelNeighbour reads ns's ARP table for ip: hardware address and whether complete.
func kernelNeighbour(t *testing.T, ns *netns.NS, ip netip.Addr) (string, bool) {
	b, err := ns.ReadFile("/proc/thread-self/net/arp")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && f[0] == ip.String() {
			return f[3], f[2] == "0x2"
		}
	}
	return "", false
}

func TestKernelAnswersOurRequest(t *testing.T) {
	a, b, na, nb := vethPair(t)
	h, err := NewHost(listenIn(t, a, na), HostConfig{Addr: netip.MustParseAddr("10.204.0.3")})
	require.NoError(t, err)
	defer h.Close()
	ifb, err := b.InterfaceByName(nb)
	require.NoError(t, err)

	hw, err := h.Resolve(t.Context(), netip.MustParseAddr("10.204.0.2"))
	require.NoError(t, err)
	require.Equal(t, ifb.HardwareAddr, hw)
	got, ok := h.Lookup(netip.MustParseAddr("10.204.0.2"))
	require.True(t, ok, "cached")
	require.Equal(t, ifb.HardwareAddr, got)
	st := h.Stats()
	require.GreaterOrEqual(t, st.RepliesReceived, uint64(1))
	// Nobody owns .9: the resolver gives up after its retries.
	h2, err := NewHost(listenIn(t, a, na), HostConfig{Addr: netip.MustParseAddr("10.204.0.4"), Retries: 2, RetryInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	defer h2.Close()
	_, err = h2.Resolve(t.Context(), netip.MustParseAddr("10.204.0.9"))
	require.ErrorIs(t, err, ErrNoReply)
	require.Equal(t, uint64(2), h2.Stats().RequestsSent)
}

func TestWeAnswerKernelRequest(t *testing.T) {
	a, b, na, _ := vethPair(t)
	ours := netip.MustParseAddr("10.204.0.3")
	h, err := NewHost(listenIn(t, a, na), HostConfig{Addr: ours})
	require.NoError(t, err)
	defer h.Close()
	ifa, err := a.InterfaceByName(na)
	require.NoError(t, err)

	// Kernel B wants to send to our address, so it asks who has it.
	pc, err := b.ListenPacket("udp4", "10.204.0.2:0")
	require.NoError(t, err)
	defer pc.Close()
	require.Eventually(t, func() bool {
		_, _ = pc.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(ours, 9)))
		hw, complete := kernelNeighbour(t, b, ours)
		return complete && hw == ifa.HardwareAddr.String()
	}, 5*time.Second, 50*time.Millisecond)
	require.GreaterOrEqual(t, h.Stats().RequestsAnswered, uint64(1))
	// We learned the asker from its request aimed at us.
	_, ok := h.Lookup(netip.MustParseAddr("10.204.0.2"))
	require.True(t, ok)
}
