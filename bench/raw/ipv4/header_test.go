package ipv4

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// A header captured from the RFC 1071 examples' usual textbook packet.
var sampleHeader = []byte{
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
}

func TestChecksumKnownVector(t *testing.T) {
	require.True(t, VerifyHeaderChecksum(sampleHeader))
	b := append([]byte(nil), sampleHeader...)
	b[10], b[11] = 0, 0
	require.Equal(t, uint16(0xb861), ^Checksum(b, 0))
	// RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to ddf2.
	require.Equal(t, uint16(0xddf2), Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0))
	// Odd length pads with zero on the right.
	require.Equal(t, Checksum([]byte{1, 2, 3, 0}, 0), Checksum([]byte{1, 2, 3}, 0))
}

func TestHeaderDecode(t *testing.T) {
	var h Header
	n, err := h.Unmarshal(sampleHeader)
	require.NoError(t, err)
	require.Equal(t, 20, n)
	require.Equal(t, uint16(0x73), h.TotalLength)
	require.True(t, h.DF())
	require.False(t, h.MF())
	require.Equal(t, uint8(64), h.TTL)
	require.Equal(t, uint8(ProtocolUDP), h.Protocol)
	require.Equal(t, netip.MustParseAddr("192.168.0.1"), h.Src)
	require.Equal(t, netip.MustParseAddr("192.168.0.199"), h.Dst)
	require.Equal(t, sampleHeader, h.AppendTo(nil))
}

func TestHeaderRoundTripFields(t *testing.T) {
	h := Header{TotalLength: 100, ID: 0xbeef, Flags: FlagMF, FragmentOffset: 8191, TTL: 3, Protocol: ProtocolTCP,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
	h.SetDSCPECN(46, 3)
	require.NoError(t, h.SetOptions([]byte{0x94, 0x04, 0, 0, 1})) // router alert + NOP, padded to 8
	require.Equal(t, 28, h.MarshalSize())
	require.Equal(t, 7, h.IHL())
	require.NoError(t, h.Validate())
	b := h.AppendTo(nil)
	require.Len(t, b, 28)
	var g Header
	n, err := g.Unmarshal(append(b, make([]byte, 72)...))
	require.NoError(t, err)
	require.Equal(t, 28, n)
	require.Equal(t, h, g)
	require.Equal(t, uint8(46), g.DSCP())
	require.Equal(t, uint8(3), g.ECN())
	require.True(t, g.IsFragment())
	require.Equal(t, 72, g.PayloadLen())
}

func TestHeaderRejects(t *testing.T) {
	good := func() []byte { return append([]byte(nil), sampleHeader...) }
	fix := func(b []byte) []byte {
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], ^Checksum(b[:int(b[0]&0xf)*4], 0))
		return b
	}
	cases := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"short_header", good()[:19], ErrTruncated},
		{"version_6", fix(func() []byte { b := good(); b[0] = 0x65; return b }()), ErrVersion},
		{"ihl_4", func() []byte { b := good(); b[0] = 0x44; return b }(), ErrHeaderLen},
		{"ihl_past_buffer", func() []byte { b := good(); b[0] = 0x46; return b }(), ErrTruncated},
		{"total_len_below_header", fix(func() []byte { b := good(); b[2], b[3] = 0, 19; return b }()), ErrTotalLen},
		{"bad_checksum", func() []byte { b := good(); b[11] ^= 1; return b }(), ErrChecksum},
		{"reserved_flag", fix(func() []byte { b := good(); b[6] |= 0x80; return b }()), ErrFlags},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Header
			_, err := h.Unmarshal(c.b)
			require.ErrorIs(t, err, c.err)
		})
	}
}

func TestHeaderValidate(t *testing.T) {
	h := Header{TotalLength: 20, Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("10.0.0.1")}
	require.ErrorIs(t, h.Validate(), ErrAddress)
	h.Src = netip.MustParseAddr("10.0.0.2")
	h.TotalLength = 10
	require.ErrorIs(t, h.Validate(), ErrTotalLen)
	require.ErrorIs(t, h.SetOptions(make([]byte, 41)), ErrOptions)
}

func TestPayloadTruncated(t *testing.T) {
	var h Header
	_, err := h.Unmarshal(sampleHeader)
	require.NoError(t, err)
	_, err = h.Payload(sampleHeader)
	require.ErrorIs(t, err, ErrTruncated)
}

func TestTransportChecksum(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	udp := []byte{0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'h', 'i', '!', '?'}
	c := TransportChecksum(src, dst, ProtocolUDP, udp)
	binary.BigEndian.PutUint16(udp[6:], c)
	require.True(t, VerifyTransportChecksum(src, dst, ProtocolUDP, udp))
	udp[9] ^= 1
	require.False(t, VerifyTransportChecksum(src, dst, ProtocolUDP, udp))
}

func BenchmarkHeaderUnmarshal(b *testing.B) {
	var h Header
	b.ReportAllocs()
	b.SetBytes(int64(len(sampleHeader)))
	for b.Loop() {
		if _, err := h.Unmarshal(sampleHeader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderAppendTo(b *testing.B) {
	var h Header
	if _, err := h.Unmarshal(sampleHeader); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = h.AppendTo(buf[:0])
	}
}

func BenchmarkChecksum1500(b *testing.B) {
	p := make([]byte, 1500)
	b.SetBytes(1500)
	b.ReportAllocs()
	for b.Loop() {
		Checksum(p, 0)
	}
}

func FuzzHeaderUnmarshal(f *testing.F) {
	f.Add(sampleHeader)
	h := Header{TotalLength: 40, Flags: FlagMF, FragmentOffset: 3, TTL: 9, Protocol: 6,
		Src: netip.MustParseAddr("1.2.3.4"), Dst: netip.MustParseAddr("5.6.7.8")}
	_ = h.SetOptions([]byte{0x94, 4, 0, 0})
	f.Add(h.AppendTo(nil))
	f.Add([]byte{0x4f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		n, err := h.Unmarshal(b)
		if err != nil {
			return
		}
		if n != h.MarshalSize() {
			t.Fatalf("length %d != MarshalSize %d", n, h.MarshalSize())
		}
		out := h.AppendTo(nil)
		if string(out) != string(b[:n]) {
			t.Fatalf("round trip differs:\n%x\n%x", out, b[:n])
		}
		_, _ = h.Payload(b)
	})
}
