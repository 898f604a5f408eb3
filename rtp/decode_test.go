package rtp

import (
	"bytes"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

func onePacket(t testing.TB, payload int) []byte {
	p, err := NewPacketizer(0x1234, 96, 1200, 1, 65535)
	require.NoError(t, err)
	buf, ends := p.AppendFrame(nil, nil, Descriptor{Frame: 7, Kind: KindP, Priority: PriorityP, RefDist: 3}, 90000, make([]byte, payload))
	return buf[:ends[0]]
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good := onePacket(t, 100)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short_header", good[:11]},
		{"bad_version", mut(func(b []byte) []byte { b[0] = b[0]&0x3F | 0x40; return b })},
		{"csrc_count_past_end", mut(func(b []byte) []byte { b[0] |= 0x0F; return b[:40] })},
		{"extension_length_past_end", mut(func(b []byte) []byte { b[14], b[15] = 0xFF, 0xFF; return b })},
		{"padding_zero", mut(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b })},
		{"padding_too_long", mut(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 255; return b })},
		{"too_large", make([]byte, MaxPacketSize+1)},
	}
	var p pionrtp.Packet
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, Decode(tc.in, &p), ErrMalformed)
		})
	}
	require.NoError(t, Decode(good, &p))
}

// Our packets parse with pion/rtp; pion-built packets decode with ours.
func TestRTPInteropWithPion(t *testing.T) {
	t.Run("ours_to_pion", func(t *testing.T) {
		var p pionrtp.Packet
		require.NoError(t, p.Unmarshal(onePacket(t, 100)))
		require.EqualValues(t, 65535, p.SequenceNumber)
		require.EqualValues(t, 90000, p.Timestamp)
		require.True(t, p.Marker)
		d, err := DescriptorOf(&p, 1)
		require.NoError(t, err)
		require.Equal(t, Descriptor{Frame: 7, Count: 1, Kind: KindP, Priority: PriorityP, RefDist: 3}, d)
	})
	t.Run("pion_to_ours", func(t *testing.T) {
		d := Descriptor{Frame: 1, Index: 0, Count: 2, Kind: KindI, Priority: PriorityI}
		in := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 32767, Timestamp: 1, SSRC: 9}, Payload: []byte("hello")}
		require.NoError(t, in.SetExtension(1, d.AppendTo(nil)))
		in.Padding, in.PaddingSize = true, 3
		b, err := in.Marshal()
		require.NoError(t, err)
		var out pionrtp.Packet
		require.NoError(t, Decode(b, &out))
		require.Equal(t, []byte("hello"), out.Payload)
		got, err := DescriptorOf(&out, 1)
		require.NoError(t, err)
		require.Equal(t, d, got)
		r := NewReceiver(ReceiverConfig{})
		require.NoError(t, r.OnRTP(t0, &out))
	})
}

func TestRTXRoundTrip(t *testing.T) {
	orig := onePacket(t, 50)
	rtx, err := AppendRTX(nil, orig, 97, 0x1235, 500)
	require.NoError(t, err)
	require.Len(t, rtx, len(orig)+2)
	var p pionrtp.Packet
	require.NoError(t, Decode(rtx, &p))
	require.EqualValues(t, 97, p.PayloadType)
	require.EqualValues(t, 500, p.SequenceNumber)
	require.NoError(t, UnwrapRTX(&p, 96, 0x1234))
	var o pionrtp.Packet
	require.NoError(t, Decode(orig, &o))
	require.Equal(t, o.SequenceNumber, p.SequenceNumber)
	require.Equal(t, o.Payload, p.Payload)
}

func FuzzDecode(f *testing.F) {
	f.Add(onePacket(f, 10))
	rtx, _ := AppendRTX(nil, onePacket(f, 10), 97, 1, 1)
	f.Add(rtx)
	f.Add([]byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0xB1, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p pionrtp.Packet
		if err := Decode(b, &p); err != nil {
			return
		}
		// Round trip: re-marshal and decode to the same header and payload.
		enc, err := p.Marshal()
		if err != nil {
			return
		}
		var q pionrtp.Packet
		require.NoError(t, Decode(enc, &q))
		require.Equal(t, p.SequenceNumber, q.SequenceNumber)
		require.Equal(t, p.Payload, q.Payload)
		// The receiver never panics on it either.
		_ = NewReceiver(ReceiverConfig{}).OnRTP(t0, &p)
	})
}

func BenchmarkPacketize(b *testing.B) {
	p, _ := NewPacketizer(1, 96, 1200, 1, 0)
	payload := make([]byte, 1172*10)
	buf := make([]byte, 0, 16*1200)
	ends := make([]int, 0, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		buf, ends = p.AppendFrame(buf[:0], ends[:0], Descriptor{Kind: KindI}, 0, payload)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ends)), "ns/packet")
}

func BenchmarkDecodePacket(b *testing.B) {
	pkt := onePacket(b, 1000)
	var p pionrtp.Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := Decode(pkt, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReceiverStream feeds one Receiver a sequence of datagrams cut from the
// input (each prefixed by a length byte), polling and collecting NACKs in
// between: whatever arrives, it must not panic.
func FuzzReceiverStream(f *testing.F) {
	s, _ := NewSender(SenderConfig{MTU: 100, FECPolicy: UnequalFEC(0.5, 0.5), Budget: FixedRate(1 << 30)})
	var seed []byte
	for i := range 3 {
		kind := KindP
		if i == 0 {
			kind = KindI
		}
		_, _ = s.Enqueue(t0, Frame{Kind: kind, Payload: make([]byte, 150), DependsOn: FrameID(i)})
	}
	for k := range 20 {
		pkt, ok := s.Poll(t0.Add(time.Duration(k)*time.Second), nil)
		if !ok {
			break
		}
		if k%4 != 1 { // drop some
			seed = append(seed, byte(len(pkt)))
			seed = append(seed, pkt...)
		}
	}
	f.Add(seed)
	f.Add([]byte{12, 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReceiver(ReceiverConfig{PlayoutDelay: 50 * time.Millisecond})
		now := t0
		var p pionrtp.Packet
		for len(b) > 0 {
			n := min(int(b[0]), len(b)-1)
			pkt := b[1 : 1+n]
			b = b[1+n:]
			now = now.Add(7 * time.Millisecond)
			if Decode(pkt, &p) == nil {
				_ = r.OnRTP(now, &p)
			}
			_ = pollAll(r, now)
			_ = r.NACKs(now, nil)
			_ = r.TakePLI(now)
			_ = r.NextTimeout(now)
		}
		_ = pollAll(r, now.Add(time.Hour))
	})
}
