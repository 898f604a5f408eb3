package rudp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func samplePackets() []Packet {
	ack := AckFrame{LargestPN: 100, CumSeq: 40, MaxSeq: 1040, NumRanges: 3}
	ack.Ranges[0] = AckRange{Smallest: 95, Largest: 100}
	ack.Ranges[1] = AckRange{Smallest: 80, Largest: 90}
	ack.Ranges[2] = AckRange{Smallest: 3, Largest: 3}
	ack.AddNack(40, 2)
	ack.AddNack(45, 1)
	wrapAck := AckFrame{LargestPN: 2, NumRanges: 2}
	wrapAck.Ranges[0] = AckRange{Smallest: 0xFFFFFFFE, Largest: 2}
	wrapAck.Ranges[1] = AckRange{Smallest: 0xFFFFFF00, Largest: 0xFFFFFFF0}
	h := Header{Version: Version, ConnID: 0x0102030405060708, PacketNumber: 7, Timestamp: 1000, Echo: 900, EchoDelay: 3}
	mk := func(t PacketType, f Flags) Packet {
		p := Packet{Header: h}
		p.Header.Type, p.Header.Flags = t, f
		return p
	}
	var ps []Packet
	p := mk(TypeData, 0)
	p.Data = DataFrame{Kind: KindStream, Flags: FrameFirst | FrameLast, Seq: 5, Payload: []byte("hello")}
	ps = append(ps, p)
	p = mk(TypeData, FlagAck|FlagFEC)
	p.Ack, p.FEC = ack, FECTag{Group: 9, Index: 3}
	p.Data = DataFrame{Kind: KindReliableOrdered, Flags: FrameLast, FragIndex: 4, Seq: 9, Payload: []byte{1, 2, 3}}
	ps = append(ps, p)
	p = mk(TypeAck, FlagAck)
	p.Ack = ack
	ps = append(ps, p)
	p = mk(TypeAck, FlagAck)
	p.Ack = wrapAck
	ps = append(ps, p)
	p = mk(TypeHello, 0)
	p.Handshake = Handshake{MTU: 1200, MaxSeq: 1024, Cookie: []byte("cookie"), KeyShare: []byte{}}
	p.PadTo = 1200
	ps = append(ps, p)
	p = mk(TypePing, 0)
	ps = append(ps, p)
	p = mk(TypePing, FlagAck) // a path-MTU probe with an acknowledgement
	p.Ack, p.PadTo = ack, 1452
	ps = append(ps, p)
	p = mk(TypeReset, 0)
	p.Reason = 7
	ps = append(ps, p)
	p = mk(TypeRepair, 0)
	p.Repair = []byte("parity")
	ps = append(ps, p)
	return ps
}

func TestPacketRoundTrip(t *testing.T) {
	for _, p := range samplePackets() {
		t.Run(p.Header.Type.String(), func(t *testing.T) {
			b := p.AppendTo(nil)
			require.Len(t, b, p.MarshalSize())
			var q Packet
			n, err := q.Unmarshal(b)
			require.NoError(t, err)
			require.Equal(t, len(b), n)
			require.Equal(t, p.Header, q.Header)
			if p.Header.Flags&FlagAck != 0 {
				require.Equal(t, p.Ack, q.Ack)
			}
			if p.Header.Type == TypeData {
				require.Equal(t, p.Data, q.Data)
				require.Equal(t, p.Data.AppendTo(nil), q.Body)
			}
			if p.Header.Type == TypeHello {
				require.Equal(t, p.Handshake.Cookie, q.Handshake.Cookie)
				require.Equal(t, p.Handshake.MaxSeq, q.Handshake.MaxSeq)
			}
			require.Equal(t, p.Reason, q.Reason)
		})
	}
}

func TestPacketRejectsCorruption(t *testing.T) {
	for _, p := range samplePackets() {
		b := p.AppendTo(nil)
		for bit := 0; bit < len(b)*8; bit += 7 {
			c := append([]byte(nil), b...)
			c[bit/8] ^= 1 << (bit % 8)
			var q Packet
			_, err := q.Unmarshal(c)
			require.ErrorIs(t, err, ErrChecksum, "bit %d of %s", bit, p.Header.Type)
		}
	}
}

func TestPacketRejectsMalformed(t *testing.T) {
	seal := func(mut func(b []byte) []byte) []byte {
		p := samplePackets()[0]
		b := p.AppendTo(nil)
		b = mut(b[:len(b)-ChecksumSize])
		return resealed(b)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short", make([]byte, Overhead-1), ErrTruncated},
		{"bad_version", seal(func(b []byte) []byte { b[0] = 9; return b }), ErrVersion},
		{"bad_type", seal(func(b []byte) []byte { b[1] = 99; return b }), ErrMalformed},
		{"unknown_flag", seal(func(b []byte) []byte { b[2] = 0x80; return b }), ErrMalformed},
		{"reserved_set", seal(func(b []byte) []byte { b[3] = 1; return b }), ErrMalformed},
		{"bad_kind", seal(func(b []byte) []byte { b[HeaderSize] = 0; return b }), ErrMalformed},
		{"truncated_frame", seal(func(b []byte) []byte { return b[:HeaderSize+3] }), ErrTruncated},
		{"ack_flag_on_reset", seal(func(b []byte) []byte { b[1] = byte(TypeReset); b[2] = byte(FlagAck); return b }), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			_, err := p.Unmarshal(tc.b)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestAckFrameRangeErrors(t *testing.T) {
	a := AckFrame{LargestPN: 10, NumRanges: 1}
	a.Ranges[0] = AckRange{Smallest: 10, Largest: 10}
	b := a.AppendTo(nil)
	b[14] = 0 // zero ranges
	var q AckFrame
	_, err := q.Unmarshal(b)
	require.ErrorContains(t, err, "ack range count 0")
	b[14] = 2 // claims two ranges but the bytes are missing
	_, err = q.Unmarshal(b)
	require.ErrorIs(t, err, ErrTruncated)
	// The widest encodable list (32 ranges of 65536 packets) crosses the
	// 32-bit wrap and decodes back to the same absolute ranges.
	big := AckFrame{LargestPN: 0, NumRanges: MaxAckRanges}
	var zero uint32
	big.Ranges[0] = AckRange{Smallest: zero - 0xFFFF, Largest: 0}
	for i := 1; i < MaxAckRanges; i++ {
		hi := big.Ranges[i-1].Smallest - 0xFFFF - 2
		big.Ranges[i] = AckRange{Smallest: hi - 0xFFFF, Largest: hi}
	}
	_, err = q.Unmarshal(big.AppendTo(nil))
	require.NoError(t, err)
	require.Equal(t, big, q)
}

func BenchmarkPacketUnmarshal(b *testing.B) {
	ps := samplePackets()
	enc := ps[1].AppendTo(make([]byte, 0, 1500))
	enc = append(enc[:0], (&Packet{Header: ps[0].Header, Data: DataFrame{Kind: KindStream, Flags: 3, Payload: make([]byte, 1162)}}).AppendTo(nil)...)
	var p Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := p.Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPacketAppend(b *testing.B) {
	p := samplePackets()[0]
	p.Data.Payload = make([]byte, 1162)
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(p.MarshalSize()))
	for b.Loop() {
		buf = p.AppendTo(buf[:0])
	}
}

func TestPacketCodecDoesNotAllocate(t *testing.T) {
	for _, p := range samplePackets() {
		b := p.AppendTo(nil)
		buf := make([]byte, 0, 2048)
		var q Packet
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := q.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			buf = p.AppendTo(buf[:0])
		})
		require.Zero(t, allocs, "%s", p.Header.Type)
	}
}

func TestPingPadding(t *testing.T) {
	h := Header{Version: Version, Type: TypePing, ConnID: 1, PacketNumber: 2}
	probe := Packet{Header: h, PadTo: 1452}
	b := probe.AppendTo(nil)
	require.Len(t, b, 1452)
	require.Equal(t, 1452, probe.MarshalSize())
	var q Packet
	n, err := q.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, 1452, n)

	// Padding must be zeros: a non-zero byte is malformed, with its offset.
	body := b[:len(b)-ChecksumSize]
	body[HeaderSize+100] = 0x5a
	_, err = q.Unmarshal(resealed(body))
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "ping padding byte 100")

	// PadTo below the packet's size changes nothing.
	small := Packet{Header: h, PadTo: 10}
	require.Len(t, small.AppendTo(nil), Overhead)
}
