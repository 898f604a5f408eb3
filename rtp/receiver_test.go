package rtp

import (
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// frameStream packetises frames the way a Sender would and returns the
// decoded packets, so receiver tests can deliver them in any order.
type frameStream struct {
	t    *testing.T
	pkz  *Packetizer
	wire uint16
}

func newFrameStream(t *testing.T, firstSeq uint16) *frameStream {
	p, err := NewPacketizer(0xABC, 96, 200, 1, firstSeq)
	require.NoError(t, err)
	return &frameStream{t: t, pkz: p}
}

// frame returns the packets of one frame of n payload bytes at media time
// ts (ms); refDist 0 = no reference.
func (s *frameStream) frame(kind Kind, ts time.Duration, n int, refDist uint16) []*pionrtp.Packet {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(s.wire) + byte(i)
	}
	buf, ends := s.pkz.AppendFrame(nil, nil, Descriptor{Frame: s.wire, Kind: kind, Priority: (&Frame{Kind: kind}).EffectivePriority(), RefDist: refDist}, mediaToRTP(ts, 90000), payload)
	s.wire++
	var out []*pionrtp.Packet
	from := 0
	for _, e := range ends {
		p := &pionrtp.Packet{}
		require.NoError(s.t, Decode(append([]byte(nil), buf[from:e]...), p))
		out = append(out, p)
		from = e
	}
	return out
}

func pollAll(r *Receiver, now time.Time) []DeliveredFrame {
	var out []DeliveredFrame
	for {
		f, ok := r.Poll(now)
		if !ok {
			return out
		}
		out = append(out, f)
	}
}

func TestReceiverReordersAndPlaysOutOnTime(t *testing.T) {
	s := newFrameStream(t, 65530) // sequence numbers wrap inside the test
	r := NewReceiver(ReceiverConfig{PlayoutDelay: 50 * time.Millisecond})
	f0 := s.frame(KindI, 0, 500, 0)
	f1 := s.frame(KindP, 33*time.Millisecond, 300, 1)
	require.Greater(t, len(f0), 2)
	// Deliver f0 backwards, f1 interleaved.
	now := t0
	for i := len(f0) - 1; i >= 0; i-- {
		require.NoError(t, r.OnRTP(now, f0[i]))
	}
	for _, p := range f1 {
		require.NoError(t, r.OnRTP(now.Add(33*time.Millisecond), p))
	}
	require.Empty(t, pollAll(r, now.Add(49*time.Millisecond)), "not before playout")
	got := pollAll(r, now.Add(50*time.Millisecond))
	require.Len(t, got, 1)
	require.Equal(t, KindI, got[0].Kind)
	require.Len(t, got[0].Payload, 500)
	require.Equal(t, byte(1), got[0].Payload[1])
	require.Equal(t, t0.Add(50*time.Millisecond), r.NextTimeout(now.Add(50*time.Millisecond)).Add(-33*time.Millisecond))
	got = pollAll(r, now.Add(83*time.Millisecond))
	require.Len(t, got, 1)
	require.Equal(t, KindP, got[0].Kind)
	st := r.Stats()
	require.EqualValues(t, 1, st.Kinds[KindI].Delivered)
	// RFC 3550 A.1 takes the first packet received as the base, so the
	// packets reordered ahead of it show as negative loss.
	require.EqualValues(t, -(len(f0) - 1), st.CumulativeLost)
}

func TestReceiverLossNACKAndPLI(t *testing.T) {
	s := newFrameStream(t, 100)
	r := NewReceiver(ReceiverConfig{PlayoutDelay: 100 * time.Millisecond, InitialRTT: 40 * time.Millisecond, PLIInterval: time.Millisecond})
	i0 := s.frame(KindI, 0, 500, 0)
	p1 := s.frame(KindP, 33*time.Millisecond, 100, 1)
	b2 := s.frame(KindB, 66*time.Millisecond, 100, 1)
	lost := i0[1]
	for _, p := range i0 {
		if p != lost {
			require.NoError(t, r.OnRTP(t0, p))
		}
	}
	for _, p := range append(p1, b2...) {
		require.NoError(t, r.OnRTP(t0.Add(40*time.Millisecond), p))
	}
	nacks := r.NACKs(t0, nil)
	require.Equal(t, []uint16{lost.SequenceNumber}, nacks, "gap NACKed at once")
	require.Empty(t, r.NACKs(t0.Add(5*time.Millisecond), nil))
	require.Equal(t, nacks, r.NACKs(t0.Add(10*time.Millisecond), nil), "quick repeat")
	require.Equal(t, nacks, r.NACKs(t0.Add(20*time.Millisecond), nil), "second repeat")
	require.Empty(t, r.NACKs(t0.Add(30*time.Millisecond), nil), "round over")
	// The I frame is not repaired in time: lost at playout, PLI, and the
	// P and B frames that reference it are undecodable.
	require.Empty(t, pollAll(r, t0.Add(200*time.Millisecond)))
	st := r.Stats()
	require.EqualValues(t, 1, st.Kinds[KindI].Lost)
	require.EqualValues(t, 1, st.Kinds[KindP].Undecodable)
	require.EqualValues(t, 1, st.Kinds[KindB].Undecodable)
	require.True(t, r.TakePLI(t0.Add(200*time.Millisecond)))
	require.False(t, r.TakePLI(t0.Add(200*time.Millisecond)), "cleared")
	// The missing packet arriving now makes the given-up frame Late.
	require.NoError(t, r.OnRTP(t0.Add(210*time.Millisecond), lost))
	require.EqualValues(t, 1, r.Stats().Kinds[KindI].Late)
}

func TestReceiverRepairedByRTX(t *testing.T) {
	s := newFrameStream(t, 0)
	r := NewReceiver(ReceiverConfig{PlayoutDelay: 100 * time.Millisecond, InitialRTT: 40 * time.Millisecond})
	pk := s.frame(KindI, 0, 500, 0)
	for i, p := range pk {
		if i != 1 {
			require.NoError(t, r.OnRTP(t0, p))
		}
	}
	require.Len(t, r.NACKs(t0, nil), 1)
	raw, err := pk[1].Marshal()
	require.NoError(t, err)
	rtx, err := AppendRTX(nil, raw, 97, 0xABD, 1)
	require.NoError(t, err)
	var rp pionrtp.Packet
	require.NoError(t, Decode(rtx, &rp))
	require.NoError(t, r.OnRTP(t0.Add(30*time.Millisecond), &rp))
	got := pollAll(r, t0.Add(100*time.Millisecond))
	require.Len(t, got, 1)
	st := r.Stats()
	require.EqualValues(t, 1, st.Repaired)
	require.EqualValues(t, 30*time.Millisecond, st.RTT, "RTT sampled from the first-round repair")
	require.EqualValues(t, 1, st.ExpectedPackets-st.ReceivedPrimary, "RTX does not count as a primary arrival")
}

func TestReceiverNACKsLostStreamStart(t *testing.T) {
	s := newFrameStream(t, 0)
	r := NewReceiver(ReceiverConfig{})
	pk := s.frame(KindI, 0, 500, 0)
	require.NoError(t, r.OnRTP(t0, pk[2]))
	require.ElementsMatch(t, []uint16{pk[0].SequenceNumber, pk[1].SequenceNumber}, r.NACKs(t0, nil),
		"the descriptor's index reveals the packets before the first one seen")
}

func TestReceiverRejectsForeignAndBadDescriptor(t *testing.T) {
	r := NewReceiver(ReceiverConfig{MediaSSRC: 1})
	p := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 96, SSRC: 2}}
	require.ErrorIs(t, r.OnRTP(t0, p), ErrMalformed)
	p.SSRC = 1
	require.ErrorIs(t, r.OnRTP(t0, p), ErrDescriptor)
	require.NoError(t, p.SetExtension(1, []byte{0, 0, 5, 0, 4, 0, 1, 0, 0, 0}))
	require.ErrorIs(t, r.OnRTP(t0, p), ErrDescriptor, "index ≥ count")
	p.PayloadType = 50
	require.ErrorIs(t, r.OnRTP(t0, p), ErrMalformed)
	st := r.Stats()
	require.EqualValues(t, 2, st.ForeignSSRC)
	require.EqualValues(t, 2, st.BadDescriptor)
}

func TestEmitOnCompleteWaits(t *testing.T) {
	s := newFrameStream(t, 0)
	r := NewReceiver(ReceiverConfig{EmitOnComplete: true})
	f0 := s.frame(KindI, 0, 100, 0)
	f1 := s.frame(KindP, 33*time.Millisecond, 100, 1)
	f2 := s.frame(KindP, 66*time.Millisecond, 100, 1)
	require.NoError(t, r.OnRTP(t0, f0[0]))
	require.NoError(t, r.OnRTP(t0, f2[0]))
	require.Len(t, pollAll(r, t0), 1, "frame 0 at once")
	require.Empty(t, pollAll(r, t0.Add(time.Hour)), "frame 1 missing: wait forever")
	require.NoError(t, r.OnRTP(t0.Add(time.Hour), f1[0]))
	require.Len(t, pollAll(r, t0.Add(time.Hour)), 2)
}

// BenchmarkReceiverPacket feeds decoded packets of 10-packet frames and
// polls frames out: one copy per packet (the payload outlives the caller's
// buffer) and one per frame (the reassembled payload).
func BenchmarkReceiverPacket(b *testing.B) {
	pkz, _ := NewPacketizer(1, 96, 1200, 1, 0)
	r := NewReceiver(ReceiverConfig{EmitOnComplete: true})
	payload := make([]byte, 11000)
	var buf []byte
	var ends []int
	var p pionrtp.Packet
	now := t0
	frame := uint16(0)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf, ends = pkz.AppendFrame(buf[:0], ends[:0], Descriptor{Frame: frame, Kind: KindI}, uint32(frame)*3000, payload)
		frame++
		from := 0
		for _, e := range ends {
			if err := Decode(buf[from:e], &p); err != nil {
				b.Fatal(err)
			}
			_ = r.OnRTP(now, &p)
			from = e
			n++
		}
		_ = pollAll(r, now)
		now = now.Add(33 * time.Millisecond)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

func TestReceiverSkipsNACKForLowPriorityFrames(t *testing.T) {
	s := newFrameStream(t, 10)
	r := NewReceiver(ReceiverConfig{})
	i0 := s.frame(KindI, 0, 500, 0)
	b1 := s.frame(KindB, 33*time.Millisecond, 500, 1)
	p2 := s.frame(KindP, 66*time.Millisecond, 500, 2)
	require.Greater(t, len(b1), 2)
	// Lose the tail of I, all but the middle of B, and the head of P.
	var got []*pionrtp.Packet
	got = append(got, i0[:len(i0)-1]...)
	got = append(got, b1[1])
	got = append(got, p2[1:]...)
	for _, p := range got {
		require.NoError(t, r.OnRTP(t0, p))
	}
	var want []uint16
	want = append(want, i0[len(i0)-1].SequenceNumber, p2[0].SequenceNumber)
	require.ElementsMatch(t, want, r.NACKs(t0, nil), "B packets are known to be B and not NACKed")
}
