package arp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	macA = [6]byte{2, 0, 0, 0, 0, 0xa}
	macB = [6]byte{2, 0, 0, 0, 0, 0xb}
	ipA  = netip.MustParseAddr("10.0.0.1")
	ipB  = netip.MustParseAddr("10.0.0.2")
)

func TestPacketRoundTrip(t *testing.T) {
	req := Request(macA, ipA, ipB)
	b := req.AppendTo(nil)
	require.Len(t, b, PacketLen)
	require.Equal(t, []byte{0, 1, 8, 0, 6, 4, 0, 1}, b[:8])
	require.Equal(t, make([]byte, 6), b[18:24], "target hardware address of a request is zero")
	var g Packet
	n, err := g.Unmarshal(append(b, make([]byte, 18)...)) // Ethernet minimum-frame padding
	require.NoError(t, err)
	require.Equal(t, PacketLen, n)
	require.Equal(t, req, g)

	rep := ReplyTo(&g, macB)
	require.Equal(t, Packet{Op: OpReply, SenderHW: macB, SenderIP: ipB, TargetHW: macA, TargetIP: ipA}, rep)
	require.Equal(t, "02:00:00:00:00:0b", HardwareAddr(macB).String())
}

func TestPacketRejects(t *testing.T) {
	good := func() []byte { p := Request(macA, ipA, ipB); return p.AppendTo(nil) }
	cases := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"fixed_header_only", good()[:8], ErrTruncated},
		{"token_ring", func() []byte { b := good(); b[1] = 6; return b }(), ErrUnsupported},
		{"ipv6_proto", func() []byte { b := good(); b[2], b[3] = 0x86, 0xdd; return b }(), ErrUnsupported},
		{"hw_len_8", func() []byte { b := good(); b[4] = 8; return b }(), ErrUnsupported},
		{"op_3", func() []byte { b := good(); b[7] = 3; return b }(), ErrOp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			_, err := p.Unmarshal(c.b)
			require.ErrorIs(t, err, c.err)
		})
	}
}

func TestCache(t *testing.T) {
	now := time.Unix(100, 0)
	c := NewCache(time.Second, 2)
	_, ok := c.Get(now, ipA)
	require.False(t, ok)
	require.False(t, c.Update(now, ipA, macA), "update does not add")
	c.Put(now, ipA, macA)
	hw, ok := c.Get(now.Add(999*time.Millisecond), ipA)
	require.True(t, ok)
	require.Equal(t, macA, hw)
	_, ok = c.Get(now.Add(time.Second), ipA)
	require.False(t, ok, "expired at ttl")
	require.True(t, c.Update(now.Add(500*time.Millisecond), ipA, macB))
	hw, _ = c.Get(now.Add(1200*time.Millisecond), ipA)
	require.Equal(t, macB, hw)
	// Bounded: the entry expiring soonest goes.
	c.Put(now.Add(100*time.Millisecond), ipB, macB)
	c.Put(now.Add(200*time.Millisecond), netip.MustParseAddr("10.0.0.3"), macB)
	require.Equal(t, 2, c.Len())
	_, ok = c.Get(now.Add(200*time.Millisecond), ipB)
	require.False(t, ok)
	require.Equal(t, 2, c.Expire(now.Add(time.Hour)))
}

func BenchmarkPacketUnmarshal(b *testing.B) {
	p := Request(macA, ipA, ipB)
	buf := p.AppendTo(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPacketAppendTo(b *testing.B) {
	p := Request(macA, ipA, ipB)
	buf := make([]byte, 0, PacketLen)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendTo(buf[:0])
	}
}

func FuzzPacketUnmarshal(f *testing.F) {
	p := Request(macA, ipA, ipB)
	f.Add(p.AppendTo(nil))
	r := ReplyTo(&p, macB)
	f.Add(r.AppendTo(nil))
	f.Add([]byte{0, 1, 8, 0, 6, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		n, err := p.Unmarshal(b)
		if err != nil {
			return
		}
		if out := p.AppendTo(nil); string(out) != string(b[:n]) {
			t.Fatalf("round trip differs: %x vs %x", out, b[:n])
		}
	})
}
