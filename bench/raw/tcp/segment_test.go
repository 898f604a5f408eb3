package tcp

import (
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// linuxSYN is a SYN captured from a Linux 6.x kernel (10.201.0.1:43210 →
// 10.201.0.2:5001): MSS 1460, SACK-permitted, timestamps, NOP, wscale 7.
const linuxSYN = "a8ca1389" + "5f0a1b2c" + "00000000" + "a002" + "faf0" + "0000" + "0000" +
	"020405b4" + "0402080a" + "0012d687" + "00000000" + "01030307"

func TestHeaderUnmarshalLinuxSYN(t *testing.T) {
	b, err := hex.DecodeString(linuxSYN)
	require.NoError(t, err)
	var h Header
	n, err := h.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, 40, n)
	require.Equal(t, uint16(43210), h.SrcPort)
	require.Equal(t, uint16(5001), h.DstPort)
	require.Equal(t, uint32(0x5f0a1b2c), h.Seq)
	require.Equal(t, FlagSYN, h.Flags)
	require.Equal(t, uint16(64240), h.Window)
	require.Equal(t, uint16(1460), h.Options.MSS)
	require.True(t, h.Options.SACKPermitted)
	require.True(t, h.Options.HasTimestamps)
	require.Equal(t, uint32(0x12d687), h.Options.TSVal)
	require.True(t, h.Options.HasWindowScale)
	require.Equal(t, uint8(7), h.Options.WindowScale)
	require.Equal(t, uint32(1), h.SegmentLen(0))
}

func TestHeaderRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		h    Header
	}{
		{"bare_ack", Header{SrcPort: 1, DstPort: 2, Seq: 0xffffffff, Ack: 7, Flags: FlagACK, Window: 65535}},
		{"syn_all_options", Header{SrcPort: 80, DstPort: 5555, Seq: 9, Flags: FlagSYN, Window: 1000,
			Options: Options{MSS: 1460, HasWindowScale: true, WindowScale: 14, SACKPermitted: true, HasTimestamps: true, TSVal: 1, TSEcr: 2}}},
		{"sackok_only", Header{Flags: FlagSYN | FlagACK, Options: Options{SACKPermitted: true}}},
		{"ts_only", Header{Flags: FlagACK, Options: Options{HasTimestamps: true, TSVal: 0xdeadbeef, TSEcr: 0xfeedface}}},
		{"sack_blocks_with_ts", Header{Flags: FlagACK | FlagPSH, Urgent: 3, Checksum: 0x1234, Options: Options{HasTimestamps: true, NumSACK: 3,
			SACK: [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}}}}},
		{"four_sack_blocks", Header{Flags: FlagACK, Options: Options{NumSACK: 4, SACK: [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}}}},
		{"all_flags", Header{Flags: 0xff}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.h.AppendTo(nil)
			require.Len(t, b, tc.h.MarshalSize())
			require.Zero(t, len(b)%4)
			var got Header
			n, err := got.Unmarshal(append(b, "payload"...))
			require.NoError(t, err)
			require.Equal(t, len(b), n)
			require.Equal(t, tc.h, got)
		})
	}
}

func TestOptionsTooManySACKBlocksAreDropped(t *testing.T) {
	h := Header{Options: Options{MSS: 1, HasTimestamps: true, SACKPermitted: true, HasWindowScale: true, NumSACK: 4,
		SACK: [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}}}
	b := h.AppendTo(nil)
	require.LessOrEqual(t, len(b), MaxHeaderLen)
	var got Header
	_, err := got.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, 2, got.Options.NumSACK) // 20 bytes of fixed options leave room for two blocks
	require.Equal(t, SACKBlock{1, 2}, got.Options.SACK[0])
}

func TestHeaderUnmarshalSkipsUnknownOptionsAndStopsAtEOL(t *testing.T) {
	h := Header{Flags: FlagSYN}
	b := h.AppendTo(nil)
	// data offset 9: 16 option bytes
	opts := []byte{OptNOP, 30, 4, 0xaa, 0xbb, OptMSS, 4, 0x05, 0x78, OptEOL, 99, 99, 99, 99, 99, 99}
	b = append(b, opts...)
	b[12] = 9 << 4
	var got Header
	n, err := got.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, 36, n)
	require.Equal(t, 1, got.Options.Unknown)
	require.Equal(t, uint16(1400), got.Options.MSS)
}

func TestHeaderUnmarshalMalformed(t *testing.T) {
	base := func(opts ...byte) []byte {
		h := Header{}
		b := h.AppendTo(nil)
		b = append(b, opts...)
		b[12] = byte(len(b)/4) << 4
		return b
	}
	cases := []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", make([]byte, 19), ErrShortSegment},
		{"data_offset_below_5", func() []byte { b := base(); b[12] = 4 << 4; return b }(), ErrDataOffset},
		{"data_offset_beyond_segment", func() []byte { b := base(); b[12] = 6 << 4; return b }(), ErrDataOffset},
		{"option_without_length", base(OptNOP, OptNOP, OptNOP, OptMSS), ErrOptionLength},
		{"option_length_1", base(77, 1, 0, 0), ErrOptionLength},
		{"option_length_past_end", base(77, 9, 0, 0), ErrOptionLength},
		{"mss_length_3", base(OptMSS, 3, 0, 0), ErrOptionLength},
		{"wscale_length_4", base(OptWindowScale, 4, 0, 0), ErrOptionLength},
		{"sackok_length_3", base(OptSACKPermitted, 3, 0, 0), ErrOptionLength},
		{"timestamps_length_8", base(OptTimestamps, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrOptionLength},
		{"sack_empty", base(OptSACK, 2, 0, 0), ErrOptionLength},
		{"sack_not_multiple_of_8", base(OptSACK, 6, 0, 0, 0, 0, 0, 0), ErrOptionLength},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Header
			_, err := h.Unmarshal(tc.b)
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestWindowScaleClampedTo14(t *testing.T) {
	h := Header{Options: Options{HasWindowScale: true, WindowScale: 20}}
	var got Header
	_, err := got.Unmarshal(h.AppendTo(nil))
	require.NoError(t, err)
	require.Equal(t, uint8(14), got.Options.WindowScale)
}

func TestChecksum(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	h := Header{SrcPort: 1000, DstPort: 2000, Seq: 1, Ack: 2, Flags: FlagACK, Window: 100}
	seg := append(h.AppendTo(nil), "hello, odd"...)
	SetChecksum(seg, src, dst)
	require.NoError(t, VerifyChecksum(seg, src, dst))
	require.ErrorIs(t, VerifyChecksum(seg, dst, netip.MustParseAddr("10.0.0.3")), ErrChecksum)
	seg[len(seg)-1] ^= 1
	require.ErrorIs(t, VerifyChecksum(seg, src, dst), ErrChecksum)
}

func TestSeqArithmeticAtWrap(t *testing.T) {
	cases := []struct {
		a, b uint32
		lt   bool
	}{
		{0, 1, true}, {0xffffffff, 0, true}, {0x7fffffff, 0x80000000, true},
		{0x80000000, 0x7fffffff, false}, {5, 5, false}, {0, 0xffffffff, false},
		{0xfffffff0, 0x10, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.lt, seqLT(tc.a, tc.b), "%#x < %#x", tc.a, tc.b)
		require.Equal(t, !tc.lt && tc.a != tc.b, seqGT(tc.a, tc.b), "%#x > %#x", tc.a, tc.b)
		require.Equal(t, tc.lt || tc.a == tc.b, seqLEQ(tc.a, tc.b))
		require.Equal(t, !tc.lt, seqGEQ(tc.a, tc.b))
	}
	require.True(t, seqInWindow(2, 0xfffffffe, 10))
	require.False(t, seqInWindow(8, 0xfffffffe, 10))
	require.Equal(t, uint32(3), seqMax(0xffffffff, 3))
}

func FuzzHeaderUnmarshal(f *testing.F) {
	syn, _ := hex.DecodeString(linuxSYN)
	f.Add(syn)
	f.Add((&Header{Flags: FlagACK, Options: Options{NumSACK: 2, SACK: [4]SACKBlock{{1, 2}, {3, 4}}}}).AppendTo(nil))
	f.Add(make([]byte, 20))
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 2, 0, 0, 0, 0, 0, 0, 1, 1, 8, 10})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		n, err := h.Unmarshal(b)
		if err != nil {
			return
		}
		if n < HeaderLen || n > len(b) || n > MaxHeaderLen {
			t.Fatalf("header length %d for %d bytes", n, len(b))
		}
		// Round trip: what we decoded, re-encoded and decoded, is the same.
		h.Options.Unknown = 0
		enc := h.AppendTo(nil)
		var h2 Header
		if _, err := h2.Unmarshal(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if h2 != h {
			t.Fatalf("round trip: %v != %v", h2.String(), h.String())
		}
	})
}

func BenchmarkHeaderUnmarshal(b *testing.B) {
	syn, _ := hex.DecodeString(linuxSYN)
	var h Header
	b.ReportAllocs()
	b.SetBytes(int64(len(syn)))
	for b.Loop() {
		if _, err := h.Unmarshal(syn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeaderAppendTo(b *testing.B) {
	h := Header{SrcPort: 1, DstPort: 2, Flags: FlagSYN, Options: Options{MSS: 1460, HasWindowScale: true, WindowScale: 7}}
	buf := make([]byte, 0, MaxHeaderLen)
	b.ReportAllocs()
	for b.Loop() {
		buf = h.AppendTo(buf[:0])
	}
}

func BenchmarkChecksum1460(b *testing.B) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	seg := append((&Header{Flags: FlagACK}).AppendTo(nil), make([]byte, 1460)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(seg)))
	for b.Loop() {
		SetChecksum(seg, src, dst)
	}
}
