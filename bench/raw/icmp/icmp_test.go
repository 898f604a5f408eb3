package icmp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
	"github.com/skiffnet/skiff/netem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

func TestEchoRoundTrip(t *testing.T) {
	e := Echo{Type: TypeEcho, ID: 0xabcd, Seq: 65535, Data: []byte("payload!")}
	b := e.AppendTo(nil)
	require.Len(t, b, e.MarshalSize())
	require.True(t, VerifyChecksum(b))
	var g Echo
	n, err := g.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	require.Equal(t, e, g)

	// A known vector: echo request id 1 seq 1, no data: 08 00 f7 fd 00 01 00 01.
	b = (&Echo{Type: TypeEcho, ID: 1, Seq: 1}).AppendTo(nil)
	require.Equal(t, []byte{8, 0, 0xf7, 0xfd, 0, 1, 0, 1}, b)
}

func TestDecodeRejects(t *testing.T) {
	good := (&Echo{Type: TypeEcho, ID: 1, Seq: 2, Data: []byte{1, 2, 3}}).AppendTo(nil)
	cases := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"seven_bytes", good[:7], ErrTruncated},
		{"bad_checksum", func() []byte { b := append([]byte(nil), good...); b[9] ^= 1; return b }(), ErrChecksum},
		{"not_echo", finish([]byte{TypeTimeExceeded, 0, 0, 0, 0, 0, 0, 0}, 0), ErrType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e Echo
			_, err := e.Unmarshal(c.b)
			require.ErrorIs(t, err, c.err)
		})
	}
	var e Error
	_, err := e.Unmarshal(good)
	require.ErrorIs(t, err, ErrType)
	_, err = e.Unmarshal(finish([]byte{TypeDestUnreachable, 3, 0, 0, 0, 0, 0, 0, 0x45}, 0))
	require.ErrorIs(t, err, ipv4.ErrTruncated)
}

func udpPacket() []byte {
	h := ipv4.Header{TotalLength: 20 + 8 + 4, ID: 77, TTL: 1, Protocol: ipv4.ProtocolUDP, Src: addrA, Dst: addrB}
	return append(h.AppendTo(nil), 0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, 'd', 'a', 't', 'a')
}

func TestErrorRoundTrip(t *testing.T) {
	e, err := NewError(TypeTimeExceeded, CodeTTLExceeded, udpPacket(), 8)
	require.NoError(t, err)
	require.Len(t, e.QuotedPayload, 8)
	b := e.AppendTo(nil)
	require.Len(t, b, e.MarshalSize())
	var g Error
	_, err = g.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, e, g)
	require.Equal(t, uint16(77), g.Quoted.ID)
	require.Equal(t, addrB, g.Quoted.Dst)

	frag := Error{Type: TypeDestUnreachable, Code: CodeFragNeeded, NextHopMTU: 1400, Quoted: e.Quoted}
	_, err = g.Unmarshal(frag.AppendTo(nil))
	require.NoError(t, err)
	require.Equal(t, uint16(1400), g.NextHopMTU)
	_, err = NewError(TypeDestUnreachable, 0, []byte{1, 2}, 8)
	require.Error(t, err)
}

func TestResponder(t *testing.T) {
	r := Responder{Addr: addrB}
	req := AppendPacket(nil, addrA, addrB, 5, 64, (&Echo{Type: TypeEcho, ID: 9, Seq: 3, Data: []byte("hi")}).AppendTo(nil))
	out, ok, err := r.Respond(req, nil)
	require.NoError(t, err)
	require.True(t, ok)
	var h ipv4.Header
	_, err = h.Unmarshal(out)
	require.NoError(t, err)
	require.Equal(t, addrB, h.Src)
	require.Equal(t, addrA, h.Dst)
	require.Equal(t, len(out), int(h.TotalLength))
	p, err := h.Payload(out)
	require.NoError(t, err)
	var e Echo
	_, err = e.Unmarshal(p)
	require.NoError(t, err)
	require.Equal(t, Echo{Type: TypeEchoReply, ID: 9, Seq: 3, Data: []byte("hi")}, e)
	require.Equal(t, uint64(1), r.Answered())

	t.Run("not_for_us", func(t *testing.T) {
		other := Responder{Addr: addrA}
		_, ok, err := other.Respond(req, nil)
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("reply_ignored", func(t *testing.T) {
		_, ok, err := (&Responder{Addr: addrA}).Respond(out, nil)
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("bad_icmp_checksum", func(t *testing.T) {
		bad := append([]byte(nil), req...)
		bad[len(bad)-1] ^= 1
		_, ok, err := r.Respond(bad, nil)
		require.ErrorIs(t, err, ErrChecksum)
		require.False(t, ok)
	})
	t.Run("udp_ignored", func(t *testing.T) {
		_, ok, err := r.Respond(udpPacket(), nil)
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestSummarize(t *testing.T) {
	r := PingResult{RTTs: []time.Duration{10, 20, 10, 40}}
	summarize(&r)
	require.Equal(t, time.Duration(10), r.Min)
	require.Equal(t, time.Duration(40), r.Max)
	require.Equal(t, time.Duration(20), r.Mean)
	require.Equal(t, time.Duration(16), r.Jitter) // (10+10+30)/3 truncated
}

// echoer answers every echo request arriving on c, until c is closed.
func echoer(c net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		var e Echo
		if _, err := e.Unmarshal(buf[:n]); err != nil || e.Type != TypeEcho {
			continue
		}
		e.Type = TypeEchoReply
		_, _ = c.WriteTo(e.AppendTo(nil), from)
	}
}

// TestPingOverNetem runs Ping over the in-memory network in fake time: 20%
// loss on the way out, 10 ms each way plus ±2 ms jitter on the way back.
func TestPingOverNetem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netem.NewNetwork(1)
		defer n.Close()
		_, err := n.Link("10.0.0.1", "10.0.0.2",
			netem.Profile{Delay: 10 * time.Millisecond, Loss: 0.2},
			netem.Profile{Delay: 10 * time.Millisecond, Jitter: 2 * time.Millisecond})
		require.NoError(t, err)
		a, err := n.ListenPacket("10.0.0.1:7")
		require.NoError(t, err)
		b, err := n.ListenPacket("10.0.0.2:7")
		require.NoError(t, err)
		go echoer(b)
		res, err := Ping(context.Background(), a, b.LocalAddr(), PingConfig{Count: 500, Interval: 5 * time.Millisecond, Timeout: 100 * time.Millisecond})
		require.NoError(t, err)
		require.Equal(t, 500, res.Sent)
		require.InDelta(t, 0.2, res.Loss(), 0.05)
		require.GreaterOrEqual(t, res.Min, 18*time.Millisecond)
		require.LessOrEqual(t, res.Max, 22*time.Millisecond)
		require.InDelta(t, float64(20*time.Millisecond), float64(res.Mean), float64(time.Millisecond))
		require.Greater(t, res.Jitter, time.Duration(0))
		require.Zero(t, res.Duplicates+res.Corrupt)
		a.Close()
		b.Close()
	})
}

func BenchmarkEchoUnmarshal(b *testing.B) {
	msg := (&Echo{Type: TypeEcho, ID: 1, Seq: 2, Data: make([]byte, 56)}).AppendTo(nil)
	var e Echo
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Unmarshal(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEchoAppendTo(b *testing.B) {
	e := Echo{Type: TypeEcho, ID: 1, Seq: 2, Data: make([]byte, 56)}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendTo(buf[:0])
	}
}

func BenchmarkErrorUnmarshal(b *testing.B) {
	e, _ := NewError(TypeDestUnreachable, CodePortUnreachable, udpPacket(), 8)
	msg := e.AppendTo(nil)
	var g Error
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Unmarshal(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponder(b *testing.B) {
	r := Responder{Addr: addrB}
	req := AppendPacket(nil, addrA, addrB, 5, 64, (&Echo{Type: TypeEcho, ID: 9, Seq: 3, Data: make([]byte, 56)}).AppendTo(nil))
	out := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		out, _, _ = r.Respond(req, out[:0])
	}
}

func FuzzEchoUnmarshal(f *testing.F) {
	f.Add((&Echo{Type: TypeEcho, ID: 1, Seq: 2, Data: []byte("x")}).AppendTo(nil))
	f.Add((&Echo{Type: TypeEchoReply}).AppendTo(nil))
	f.Add([]byte{8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Echo
		if _, err := e.Unmarshal(b); err != nil {
			return
		}
		if out := e.AppendTo(nil); string(out) != string(b) {
			t.Fatalf("round trip differs: %x vs %x", out, b)
		}
	})
}

func FuzzErrorUnmarshal(f *testing.F) {
	e, _ := NewError(TypeTimeExceeded, 0, udpPacket(), 8)
	f.Add(e.AppendTo(nil))
	f.Add([]byte{3, 3, 0, 0, 0, 0, 0, 0, 0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Error
		if _, err := e.Unmarshal(b); err != nil {
			return
		}
		if out := e.AppendTo(nil); string(out) != string(b) {
			t.Fatalf("round trip differs: %x vs %x", out, b)
		}
	})
}

func FuzzResponder(f *testing.F) {
	f.Add(AppendPacket(nil, addrA, addrB, 5, 64, (&Echo{Type: TypeEcho, ID: 9, Seq: 3}).AppendTo(nil)))
	f.Add(udpPacket())
	f.Fuzz(func(t *testing.T, pkt []byte) {
		r := Responder{Addr: addrB}
		out, ok, _ := r.Respond(pkt, nil)
		if !ok {
			return
		}
		var h ipv4.Header
		if _, err := h.Unmarshal(out); err != nil || int(h.TotalLength) != len(out) {
			t.Fatalf("bad reply %x: %v", out, err)
		}
	})
}
