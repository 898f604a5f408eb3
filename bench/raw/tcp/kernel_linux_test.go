//go:build linux

package tcp

import (
	"context"
	"crypto/sha256"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/stretchr/testify/require"
)

// kernelHost builds a namespace whose kernel sits behind a TUN device, and
// our Stack on the other end of it.
func kernelHost(t *testing.T) (*netns.TUNHost, *Stack) {
	t.Helper()
	h := newTUNHost(t)
	link, err := NewDeviceLink(h.TUN, h.MTU)
	require.NoError(t, err)
	s, err := NewStack(link, h.Peer, Config{MSL: 200 * time.Millisecond, Seed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return h, s
}

// newTUNHost builds the namespace and TUN, or skips without root.
func newTUNHost(t *testing.T) *netns.TUNHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("needs root for network namespaces: %v", err)
	}
	h, err := netns.NewTUNHost(netns.TUNHostConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// kernelCounters reads the namespace's TCP counters.
func kernelCounters(t *testing.T, h *netns.TUNHost) netns.Counters {
	c, err := h.NS.Counters()
	require.NoError(t, err)
	return c
}

// checkCleanClose waits for our side to reach CLOSED without error and
// checks that the kernel saw no checksum errors and sent or received no RST.
func checkCleanClose(t *testing.T, h *netns.TUNHost, ours *Conn) {
	select {
	case <-ours.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("our connection stuck in %v", ours.State())
	}
	require.NoError(t, ours.Err())
	c := kernelCounters(t, h)
	require.Zero(t, c["Tcp.InCsumErrors"], "kernel saw bad TCP checksums")
	require.Zero(t, c["Tcp.InErrs"], "kernel saw bad segments")
	require.Zero(t, c["Tcp.OutRsts"], "kernel sent a RST")
	require.Zero(t, c["Tcp.EstabResets"], "a connection was reset")
	require.Zero(t, c["IpExt.InCsumErrors"])
}

func TestKernelListenerOurClient(t *testing.T) {
	h, s := kernelHost(t)
	ln, err := h.NS.Listen("tcp4", netip.AddrPortFrom(h.Kernel.Addr(), 5001).String())
	require.NoError(t, err)
	defer ln.Close()
	const size = 1 << 20
	toKernel, fromKernel := testData(1, size), testData(2, size)

	var wg sync.WaitGroup
	var gotByKernel []byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		kc, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer kc.Close()
		gotByKernel = exchange(t, kc.(*net.TCPConn), fromKernel)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.DialContext(ctx, netip.AddrPortFrom(h.Kernel.Addr(), 5001))
	require.NoError(t, err)
	got := exchange(t, c, toKernel)
	wg.Wait()
	require.Equal(t, sha256.Sum256(toKernel), sha256.Sum256(gotByKernel), "kernel received %d of %d bytes", len(gotByKernel), size)
	require.Equal(t, sha256.Sum256(fromKernel), sha256.Sum256(got), "we received %d of %d bytes", len(got), size)
	require.NoError(t, c.Close())
	checkCleanClose(t, h, c)
	st := c.Stats()
	t.Logf("our stats: %+v", st)
}

func TestKernelClientOurListener(t *testing.T) {
	h, s := kernelHost(t)
	l, err := s.Listen(5002)
	require.NoError(t, err)
	defer l.Close()
	const size = 1 << 20
	toKernel, fromKernel := testData(3, size), testData(4, size)

	var wg sync.WaitGroup
	var got []byte
	var ours *Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		ours, err = l.AcceptTCP()
		if err != nil {
			t.Error(err)
			return
		}
		got = exchange(t, ours, toKernel)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kc, err := h.NS.Dial(ctx, nil, "tcp4", netip.AddrPortFrom(h.Peer, 5002).String())
	require.NoError(t, err)
	gotByKernel := exchange(t, kc.(*net.TCPConn), fromKernel)
	wg.Wait()
	require.NoError(t, kc.Close()) // the kernel closes first: we pass LAST-ACK
	require.NotNil(t, ours)
	require.Equal(t, sha256.Sum256(toKernel), sha256.Sum256(gotByKernel), "kernel received %d of %d bytes", len(gotByKernel), size)
	require.Equal(t, sha256.Sum256(fromKernel), sha256.Sum256(got), "we received %d of %d bytes", len(got), size)
	require.NoError(t, ours.Close())
	checkCleanClose(t, h, ours)
}

func TestKernelRefusesClosedPortAndWeRefuseToo(t *testing.T) {
	h, s := kernelHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.DialContext(ctx, netip.AddrPortFrom(h.Kernel.Addr(), 5999))
	require.ErrorIs(t, err, ErrConnectionRefused)
	_, err = h.NS.Dial(ctx, nil, "tcp4", netip.AddrPortFrom(h.Peer, 5999).String())
	require.ErrorContains(t, err, "refused")
}

// TestKernelJudgesOurChecksum is the negative control: a SYN built like the
// stack's, with its TCP checksum broken, moves the kernel's
// Tcp.InCsumErrors counter.
func TestKernelJudgesOurChecksum(t *testing.T) {
	h := newTUNHost(t)
	ln, err := h.NS.Listen("tcp4", netip.AddrPortFrom(h.Kernel.Addr(), 5003).String())
	require.NoError(t, err)
	defer ln.Close()
	before := kernelCounters(t, h)["Tcp.InCsumErrors"]
	syn := Header{SrcPort: 40000, DstPort: 5003, Seq: 1, Flags: FlagSYN, Window: 65535, Options: Options{MSS: 1460}}
	ih := ipv4.Header{TotalLength: uint16(20 + syn.MarshalSize()), TTL: 64, Protocol: ipv4.ProtocolTCP, Src: h.Peer, Dst: h.Kernel.Addr()}
	pkt := syn.AppendTo(ih.AppendTo(nil))
	SetChecksum(pkt[20:], h.Peer, h.Kernel.Addr())
	pkt[20+16] ^= 0x55 // break the TCP checksum
	_, err = h.TUN.Write(pkt)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return kernelCounters(t, h)["Tcp.InCsumErrors"] > before },
		5*time.Second, 20*time.Millisecond, "kernel did not count our broken checksum")
}
