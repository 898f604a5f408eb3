package ipv4_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
	"github.com/skiffnet/skiff/bench/raw/netns"
)

func udpDatagram(src, dst netip.AddrPort, payload []byte) []byte {
	udp := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	udp = append(udp, payload...)
	binary.BigEndian.PutUint16(udp[6:], ipv4.TransportChecksum(src.Addr(), dst.Addr(), ipv4.ProtocolUDP, udp))
	return udp
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + i>>8)
	}
	return b
}

// TestKernelReassemblesOurFragments: a 3800-byte UDP datagram (IP payload)
// fragmented by hand into 1400/1400/1000 is delivered whole to a kernel UDP
// socket, in order and out of order; a corrupted fragment is counted and the
// datagram is not delivered.
func TestKernelReassemblesOurFragments(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
	host, err := netns.NewTUNHost(netns.TUNHostConfig{MTU: 1420})
	require.NoError(t, err)
	defer host.Close()
	kernel := netip.AddrPortFrom(host.Kernel.Addr(), 4000)
	peer := netip.AddrPortFrom(host.Peer, 5000)
	pc, err := host.NS.ListenPacket("udp4", kernel.String())
	require.NoError(t, err)
	defer pc.Close()

	data := payload(3792)
	udp := udpDatagram(peer, kernel, data)
	require.Len(t, udp, 3800)
	buf := make([]byte, 8192)
	for i, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
		h := ipv4.Header{ID: uint16(100 + i), TTL: 64, Protocol: ipv4.ProtocolUDP, Src: peer.Addr(), Dst: kernel.Addr()}
		frags, err := ipv4.Fragment(nil, &h, udp, 1420)
		require.NoError(t, err)
		require.Len(t, frags, 3)
		before, err := host.NS.Counters()
		require.NoError(t, err)
		for _, k := range order {
			_, err := host.TUN.Write(frags[k])
			require.NoError(t, err)
		}
		require.NoError(t, pc.SetReadDeadline(time.Now().Add(3*time.Second)))
		n, _, err := pc.ReadFrom(buf)
		require.NoError(t, err, "order %v", order)
		require.Equal(t, data, buf[:n], "order %v", order)
		after, err := host.NS.Counters()
		require.NoError(t, err)
		require.Equal(t, before["Ip.ReasmOKs"]+1, after["Ip.ReasmOKs"], "order %v", order)
	}

	// Negative control: one fragment with a bad header checksum.
	h := ipv4.Header{ID: 200, TTL: 64, Protocol: ipv4.ProtocolUDP, Src: peer.Addr(), Dst: kernel.Addr()}
	frags, err := ipv4.Fragment(nil, &h, udp, 1420)
	require.NoError(t, err)
	before, err := host.NS.Counters()
	require.NoError(t, err)
	frags[1][10] ^= 0x55
	for _, f := range frags {
		_, err := host.TUN.Write(f)
		require.NoError(t, err)
	}
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, _, err = pc.ReadFrom(buf)
	require.Error(t, err, "a datagram with a corrupted fragment must not be delivered")
	after, err := host.NS.Counters()
	require.NoError(t, err)
	require.Greater(t, after["Ip.InHdrErrors"]+after["IpExt.InCsumErrors"], before["Ip.InHdrErrors"]+before["IpExt.InCsumErrors"])
}

// TestWeReassembleKernelFragments: the kernel fragments a 3792-byte UDP
// datagram for the 1420-byte TUN MTU; our Reassembler puts it back together.
func TestWeReassembleKernelFragments(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skip(err)
	}
	host, err := netns.NewTUNHost(netns.TUNHostConfig{MTU: 1420})
	require.NoError(t, err)
	defer host.Close()
	pc, err := host.NS.ListenPacket("udp4", netip.AddrPortFrom(host.Kernel.Addr(), 4000).String())
	require.NoError(t, err)
	defer pc.Close()
	data := payload(3792)
	_, err = pc.WriteTo(data, net.UDPAddrFromAddrPort(netip.AddrPortFrom(host.Peer, 5000)))
	require.NoError(t, err)

	r := ipv4.NewReassembler(ipv4.ReassemblerConfig{})
	buf := make([]byte, 2048)
	fragCount := 0
	require.NoError(t, host.TUN.SetReadDeadline(time.Now().Add(3*time.Second)))
	for {
		n, err := host.TUN.Read(buf)
		require.NoError(t, err)
		var h ipv4.Header
		if _, err := h.Unmarshal(buf[:n]); err != nil || h.Protocol != ipv4.ProtocolUDP {
			continue
		}
		p, err := h.Payload(buf[:n])
		require.NoError(t, err)
		require.LessOrEqual(t, n, 1420)
		fragCount++
		out, dg, done, err := r.Add(time.Now(), &h, p)
		require.NoError(t, err)
		if !done {
			continue
		}
		require.Equal(t, 3, fragCount)
		require.Equal(t, host.Peer, out.Dst)
		require.True(t, ipv4.VerifyTransportChecksum(out.Src, out.Dst, ipv4.ProtocolUDP, dg))
		require.Equal(t, data, dg[8:])
		return
	}
}
