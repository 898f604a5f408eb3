package rtp

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff/congestion"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSenderDropsBThenPNeverI(t *testing.T) {
	// 200 kbit/s = 25 kB/s: a 100 ms deadline carries 2.5 kB.
	s, err := NewSender(SenderConfig{Budget: FixedRate(200 * congestion.KbitPerSecond), InitialRTT: 1, MaxDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	i, _ := s.Enqueue(t0, Frame{Kind: KindI, Payload: make([]byte, 800)})
	p, _ := s.Enqueue(t0, Frame{Kind: KindP, Payload: make([]byte, 600), DependsOn: i})
	_, _ = s.Enqueue(t0, Frame{Kind: KindB, Payload: make([]byte, 400), DependsOn: p})
	st := s.Stats()
	require.Zero(t, st.Kinds[KindB].DroppedBudget, "all three fit: %d bytes", s.QueuedBytes())
	_, _ = s.Enqueue(t0, Frame{Kind: KindB, Payload: make([]byte, 700), DependsOn: p})
	st = s.Stats()
	require.EqualValues(t, 1, st.Kinds[KindB].DroppedBudget, "a B goes first")
	require.Zero(t, st.Kinds[KindP].DroppedBudget)
	_, _ = s.Enqueue(t0, Frame{Kind: KindI, Payload: make([]byte, 1200)})
	st = s.Stats()
	require.EqualValues(t, 2, st.Kinds[KindB].DroppedBudget, "the other B")
	require.EqualValues(t, 1, st.Kinds[KindP].DroppedBudget, "then the P")
	require.Zero(t, st.Kinds[KindI].DroppedBudget, "never an I")
	// A frame referencing the dropped P is dropped at once.
	_, _ = s.Enqueue(t0, Frame{Kind: KindB, Payload: make([]byte, 10), DependsOn: p})
	require.EqualValues(t, 1, s.Stats().Kinds[KindB].DroppedDependency)
}

func TestSenderRetransmitPolicy(t *testing.T) {
	s, err := NewSender(SenderConfig{Budget: FixedRate(10 * congestion.MbitPerSecond), InitialRTT: 40 * time.Millisecond, NoTailProbe: true, NoDuplicateRTX: true})
	require.NoError(t, err)
	_, _ = s.Enqueue(t0, Frame{Kind: KindI, Payload: make([]byte, 100), Deadline: t0.Add(150 * time.Millisecond)})
	_, _ = s.Enqueue(t0, Frame{Kind: KindB, Payload: make([]byte, 100), Deadline: t0.Add(150 * time.Millisecond)})
	var seqs []uint16
	for k := range 3 {
		if pkt, ok := s.Poll(t0.Add(time.Duration(k)*time.Millisecond), nil); ok {
			seqs = append(seqs, seqOf(pkt))
		}
	}
	require.Len(t, seqs, 2)
	now := t0.Add(50 * time.Millisecond)
	s.OnNACK(now, seqs)
	require.EqualValues(t, 1, s.Stats().RetransmitLowPriority, "B not resent")
	_, ok := s.Poll(now, nil)
	require.True(t, ok, "I resent")
	s.OnNACK(now.Add(5*time.Millisecond), seqs[:1])
	_, ok = s.Poll(now.Add(5*time.Millisecond), nil)
	require.False(t, ok, "a NACK within a round trip of the retransmission is ignored")
	late := t0.Add(140 * time.Millisecond)
	s.OnNACK(late, seqs[:1])
	require.EqualValues(t, 1, s.Stats().RetransmitRefused, "cannot arrive before the deadline")
}

// TestSenderRTXCopies: a NACKed packet gets one copy at once and a spare
// after the frame in progress while another NACK round could still make
// its deadline, three copies at once when not; a NACK that left the
// receiver before the last retransmission could arrive is ignored.
func TestSenderRTXCopies(t *testing.T) {
	const rtxPT = 97
	kinds := func(s *Sender, now time.Time) (out []string) {
		for {
			pkt, ok := s.Poll(now, nil)
			if !ok {
				return out
			}
			if pkt[1]&0x7f == rtxPT {
				out = append(out, "rtx")
			} else {
				out = append(out, fmt.Sprintf("media %d", seqOf(pkt)))
			}
		}
	}
	for _, tc := range []struct {
		name   string
		nackAt time.Duration // after t0; the I frame's deadline is t0+150 ms
		then   bool          // a 3-packet P frame is in progress when the NACK comes
		want   []string
	}{
		{"time for another round", 30 * time.Millisecond, false, []string{"rtx", "rtx"}},
		{"last chance", 80 * time.Millisecond, false, []string{"rtx", "rtx", "rtx"}},
		{"spare after the frame in progress", 30 * time.Millisecond, true, []string{"rtx", "media 2", "media 3", "rtx"}},
		{"last chance before the frame in progress", 80 * time.Millisecond, true, []string{"rtx", "rtx", "rtx", "media 2", "media 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSender(SenderConfig{Budget: FixedRate(100 * congestion.MbitPerSecond), InitialRTT: 40 * time.Millisecond, NoTailProbe: true, MTU: 1200})
			require.NoError(t, err)
			_, _ = s.Enqueue(t0, Frame{Kind: KindI, Payload: make([]byte, 100), Deadline: t0.Add(150 * time.Millisecond)})
			require.Equal(t, []string{"media 0"}, kinds(s, t0))
			now := t0.Add(tc.nackAt)
			if tc.then {
				_, _ = s.Enqueue(now, Frame{Kind: KindP, Payload: make([]byte, 3000), Deadline: now.Add(150 * time.Millisecond)})
				pkt, ok := s.Poll(now, nil)
				require.True(t, ok)
				require.EqualValues(t, 1, seqOf(pkt))
			}
			s.OnNACK(now, []uint16{0})
			require.Equal(t, tc.want, kinds(s, now))
			// The receiver's quick repeats and a retry sent before the
			// repair could arrive are ignored; a NACK a round trip later
			// is answered.
			s.OnNACK(now.Add(39*time.Millisecond), []uint16{0})
			require.Empty(t, kinds(s, now.Add(39*time.Millisecond)))
			require.EqualValues(t, 1, s.Stats().NACKsEarly)
			s.OnNACK(now.Add(41*time.Millisecond), []uint16{0})
			require.NotEmpty(t, kinds(s, now.Add(41*time.Millisecond)))
		})
	}
}

// BenchmarkSenderFrame queues a 10-packet frame and polls its packets out:
// two allocations per frame (the packet slab and its offsets, kept for
// retransmission) plus the queue entry.
func BenchmarkSenderFrame(b *testing.B) {
	s, _ := NewSender(SenderConfig{Budget: FixedRate(1 << 40), NoTailProbe: true})
	payload := make([]byte, 11000)
	buf := make([]byte, 0, 1500)
	now := t0
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		_, _ = s.Enqueue(now, Frame{Kind: KindP, Payload: payload})
		for {
			out, ok := s.Poll(now, buf[:0])
			if !ok {
				break
			}
			n++
			_ = out
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

func TestSenderQueueBound(t *testing.T) {
	s, err := NewSender(SenderConfig{MaxQueueBytes: 3000})
	require.NoError(t, err)
	_, err = s.Enqueue(t0, Frame{Kind: KindI, Payload: make([]byte, 2000)})
	require.NoError(t, err)
	_, err = s.Enqueue(t0, Frame{Kind: KindP, Payload: make([]byte, 2000)})
	require.ErrorIs(t, err, ErrQueueFull)
	_, err = s.Enqueue(t0, Frame{Kind: KindP})
	require.ErrorIs(t, err, ErrFrame, "empty payload")
	_, err = s.Enqueue(t0, Frame{Kind: KindP, Payload: []byte{1}, DependsOn: 99})
	require.ErrorIs(t, err, ErrFrame, "reference to a frame not yet queued")
}
