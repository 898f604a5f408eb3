package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeEnv is a minimal session for strategy tests: it records what the
// strategy asks for.
type fakeEnv struct {
	rtt      RTTEstimator
	hist     SentHistory
	sb       SendBuffer
	cum      uint64
	lost     []uint64 // packet numbers declared lost
	rtos     int
	probes   int
	acks     int
	requeued []uint64
}

func (e *fakeEnv) RTT() *RTTEstimator                         { return &e.rtt }
func (e *fakeEnv) History() *SentHistory                      { return &e.hist }
func (e *fakeEnv) SendBuffer() *SendBuffer                    { return &e.sb }
func (e *fakeEnv) RecvCum() uint64                            { return e.cum }
func (e *fakeEnv) RetransmissionTimeout(time.Time)            { e.rtos++ }
func (e *fakeEnv) SendProbe()                                 { e.probes++ }
func (e *fakeEnv) RequestAck()                                { e.acks++ }
func (e *fakeEnv) SendRepair(time.Time, []byte) error         { return nil }
func (e *fakeEnv) InjectData(time.Time, uint32, []byte) error { return nil }
func (e *fakeEnv) QueueRetransmit(seq uint64) bool {
	ok := e.sb.QueueRetransmit(seq)
	if ok {
		e.requeued = append(e.requeued, seq)
	}
	return ok
}
func (e *fakeEnv) DeclareLost(now time.Time, p *SentPacket, retransmit bool) {
	e.hist.MarkLost(p)
	e.lost = append(e.lost, p.PN)
	if retransmit && p.HasSeq {
		e.QueueRetransmit(p.Seq)
	}
}

// send records a reliable data transmission of a new frame.
func (e *fakeEnv) send(now time.Time, s Strategy) *SentPacket {
	f := e.sb.Push(KindStream, FrameFirst|FrameLast, 0, nil)
	f.LastPN, f.LastSent, f.Transmissions = e.hist.NextPN(), now, 1
	e.hist.Add(SentPacket{Time: now, Size: 1000, Seq: f.Seq, HasSeq: true, AckEliciting: true, InFlight: true})
	p := e.hist.Get(e.hist.NextPN() - 1)
	s.OnPacketSent(now, p, nil)
	return p
}

// resend sends the queued retransmission of seq, as the session would.
func (e *fakeEnv) resend(now time.Time, s Strategy, seq uint64) {
	f := e.sb.PopRetransmit()
	if f == nil || f.Seq != seq {
		return
	}
	f.LastPN, f.LastSent = e.hist.NextPN(), now
	f.Transmissions++
	e.hist.Add(SentPacket{Time: now, Size: 1000, Seq: f.Seq, HasSeq: true, AckEliciting: true, InFlight: true})
	s.OnPacketSent(now, e.hist.Get(e.hist.NextPN()-1), nil)
}

func (e *fakeEnv) ack(now time.Time, s Strategy, pns ...uint64) {
	var a AckFrame
	for _, pn := range pns {
		p := e.hist.Get(pn)
		e.hist.MarkAcked(p)
		e.sb.Ack(p.Seq)
		a.LargestPN = uint32(max(uint64(a.LargestPN), pn))
	}
	s.OnAckReceived(now, &a, true, true)
}

func TestTimedStrategy(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	newEnv := func() (*fakeEnv, *Timed) {
		e := &fakeEnv{}
		e.rtt.Update(100*ms, 0)
		return e, NewTimed(e, 0)
	}
	t.Run("hole_passed_by_three_packets_is_fast_retransmitted", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 5; i++ {
			e.send(t0, s)
		}
		e.ack(t0.Add(100*ms), s, 1, 2)
		require.Empty(t, e.lost, "only two later packets acked")
		e.ack(t0.Add(101*ms), s, 3)
		require.Equal(t, []uint64{0}, e.lost)
		require.Equal(t, []uint64{0}, e.requeued)
	})
	t.Run("time_threshold_loss_timer", func(t *testing.T) {
		e, s := newEnv()
		e.send(t0, s)
		e.send(t0.Add(10*ms), s)
		e.ack(t0.Add(110*ms), s, 1)
		require.Empty(t, e.lost)
		// 9/8 of 100 ms after packet 0 was sent.
		require.Equal(t, t0.Add(9*100*ms/8), s.NextTimeout())
		s.OnTimeout(t0.Add(9 * 100 * ms / 8))
		require.Equal(t, []uint64{0}, e.lost)
	})
	t.Run("lone_packet_tail_timer", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 20; i++ {
			e.rtt.Update(100*ms, 0) // steady RTT: RTTVAR decays below the granularity
		}
		e.send(t0, s)
		e.send(t0.Add(50*ms), s) // sparse: the next message, one later packet
		// SRTT + max(4·RTTVAR, SparseTailGranularity), no ack delay for a sparse packet.
		tail := t0.Add(e.rtt.SmoothedRTT() + max(4*e.rtt.RTTVar(), SparseTailGranularity))
		require.Equal(t, tail, s.NextTimeout())
		require.Less(t, tail, t0.Add(e.rtt.PTO(DefaultMaxAckDelay)))
		s.OnTimeout(tail)
		require.Equal(t, []uint64{0}, e.lost)
		require.Equal(t, []uint64{0}, e.requeued)
		require.Zero(t, e.rtos)
		require.Zero(t, e.probes)
		// The frame goes out four times: a short flight, and no loss
		// seen yet to tell how it clusters (P(lost | previous lost) taken
		// as 1/2: 1/2^4 ≤ tailCopiesMiss).
		require.Equal(t, 4, s.t.burst.copies())
		for i := 2; i <= 4; i++ {
			e.resend(tail, s, 0)
			require.Len(t, e.requeued, i, "queued again once copy %d left", i-1)
		}
		e.resend(tail, s, 0)
		require.Len(t, e.requeued, 4, "four copies, not five")
		// At most maxTailFires expiries without an acknowledgement, each
		// about one tail delay after the transmission it covers.
		now := tail
		for i := 1; i < maxTailFires; i++ {
			next, _ := s.t.tailDeadline()
			require.False(t, next.IsZero(), "expiry %d", i)
			require.Less(t, next.Sub(now), 150*ms)
			now = next
			s.OnTimeout(now)
			for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
				e.sb.QueueRetransmit(f.Seq) // put back for resend
				e.resend(now, s, f.Seq)
			}
		}
		next, _ := s.t.tailDeadline()
		require.True(t, next.IsZero(), "tail timer spent until an acknowledgement")
		require.GreaterOrEqual(t, len(e.lost), 2+maxTailFires-1, "the packets and the copies of each resend")
		// Acknowledge a copy of frame 0 (frame 1's copies, sent later,
		// stay live).
		acked := e.hist.NextPN() - 1
		for e.hist.Get(acked).Seq != 0 {
			acked--
		}
		e.ack(now.Add(ms), s, acked)
		next, _ = s.t.tailDeadline()
		require.False(t, next.IsZero(), "an acknowledgement rearms the tail timer")
	})
	t.Run("burst_beyond_last_three_keeps_tail_timers", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 20; i++ {
			e.rtt.Update(100*ms, 0)
		}
		// Five sparse messages and no acknowledgement at all: the first
		// is no longer among the last three transmissions but still gets
		// its timer (a short flight).
		for i := 0; i < 5; i++ {
			e.send(t0.Add(time.Duration(i)*50*ms), s)
		}
		tail, pn := s.t.tailDeadline()
		require.Equal(t, uint64(0), pn)
		require.Equal(t, t0.Add(e.rtt.SmoothedRTT()+max(4*e.rtt.RTTVar(), SparseTailGranularity)), tail)
	})
	t.Run("older_packets_wait_for_ack_silence", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 20; i++ {
			e.rtt.Update(100*ms, 0)
		}
		e.send(t0, s)
		for i := 0; i < 5; i++ {
			e.send(t0.Add(100*ms+time.Duration(i)*ms), s)
		}
		e.ack(t0.Add(110*ms), s, 0) // acknowledgements still arrive
		// Packet 1 is older than the last three: its timer runs from the
		// last acknowledgement, not from its transmission.
		tail, pn := s.t.tailDeadline()
		require.Equal(t, uint64(1), pn)
		require.Equal(t, t0.Add(110*ms+e.rtt.SmoothedRTT()+max(4*e.rtt.RTTVar(), SparseTailGranularity)), tail)
	})
	t.Run("bulk_flight_only_last_three", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 40; i++ {
			e.send(t0.Add(time.Duration(i)*ms/10), s)
		}
		_, pn := s.t.tailDeadline()
		require.Equal(t, uint64(37), pn, "a long flight leaves the older packets to fast retransmit")
	})
	t.Run("tail_loss_probe_then_rto_with_backoff", func(t *testing.T) {
		e, s := newEnv()
		s.t.tailTimer = false // the probe and RTO path alone
		for i := 0; i < 20; i++ {
			e.rtt.Update(100*ms, 0) // steady RTT: the probe comes before the RTO
		}
		e.send(t0, s)
		pto := t0.Add(e.rtt.PTO(DefaultMaxAckDelay))
		require.Equal(t, pto, s.NextTimeout())
		s.OnTimeout(pto)
		require.Equal(t, 1, e.probes)
		require.Equal(t, []uint64{0}, e.requeued, "the probe retransmits the newest frame")
		require.Empty(t, e.lost, "a probe declares nothing lost")
		// The probe's transmission.
		f := e.sb.PopRetransmit()
		f.LastPN, f.LastSent = e.hist.NextPN(), pto
		e.hist.Add(SentPacket{Time: pto, Size: 1000, Seq: f.Seq, HasSeq: true, AckEliciting: true, InFlight: true})
		s.OnPacketSent(pto, e.hist.Get(e.hist.NextPN()-1), nil)
		rto := e.rtt.RTO()
		require.Equal(t, t0.Add(rto), s.NextTimeout(), "RTO of the oldest outstanding transmission")
		s.OnTimeout(t0.Add(rto))
		require.Equal(t, 1, e.rtos)
		// After the RTO the timer backs off: next deadline is 2·RTO after
		// the probe transmission.
		require.Equal(t, pto.Add(2*rto), s.NextTimeout())
	})
	t.Run("spurious_loss_raises_packet_threshold", func(t *testing.T) {
		e, s := newEnv()
		for i := 0; i < 10; i++ {
			e.send(t0, s)
		}
		e.ack(t0.Add(100*ms), s, 5, 6, 7, 8)
		require.Contains(t, e.lost, uint64(1))
		e.ack(t0.Add(101*ms), s, 1) // it was only late
		d, sp := e.hist.Reordering()
		require.Equal(t, uint64(1), sp)
		require.Equal(t, uint64(7), d)
		require.Equal(t, uint64(8), s.t.threshold())
	})
}

func TestNACKSenderAnswersOncePerRTT(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	e := &fakeEnv{}
	e.rtt.Update(100*ms, 0)
	s := NewNACK(e, 0, 0)
	for i := 0; i < 4; i++ {
		e.send(t0, s)
	}
	var a AckFrame
	a.AddNack(1, 1)
	s.OnAckReceived(t0.Add(120*ms), &a, false, false)
	require.Equal(t, []uint64{1}, e.requeued)
	// The session sends the retransmission.
	f := e.sb.PopRetransmit()
	f.LastPN, f.LastSent, f.Transmissions = e.hist.NextPN(), t0.Add(120*ms), 2
	e.hist.Add(SentPacket{Time: t0.Add(120 * ms), Size: 1000, Seq: 1, HasSeq: true, AckEliciting: true, InFlight: true})
	// A duplicate report within an RTT is ignored.
	s.OnAckReceived(t0.Add(150*ms), &a, false, false)
	require.Equal(t, []uint64{1}, e.requeued)
	_, answered, ignored := s.NackStats()
	require.Equal(t, uint64(1), answered)
	require.Equal(t, uint64(1), ignored)
	// A report an RTT later is answered again.
	s.OnAckReceived(t0.Add(230*ms), &a, false, false)
	require.Equal(t, []uint64{1, 1}, e.requeued)
	// No packet-threshold fast retransmit in NACK mode.
	e.ack(t0.Add(231*ms), s, 2, 3)
	require.Len(t, e.requeued, 2)
}

// TestNACKTailTimer: the NACK sender resends a lone lost message after
// SRTT + max(4·RTTVAR, TailGranularity) plus the extra a wrapper sets (no
// later arrival can make the receiver NACK it yet); a negative extra
// turns the timer off.
func TestNACKTailTimer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, extra := range []time.Duration{0, 5 * ms, -1} {
		e := &fakeEnv{}
		for i := 0; i < 21; i++ {
			e.rtt.Update(20*ms, 0)
		}
		s := NewNACK(e, 0, 0)
		s.SetTailDelayExtra(extra)
		e.send(t0, s)
		e.send(t0.Add(20*ms), s)
		e.send(t0.Add(40*ms), s)
		want := t0.Add(20*ms + SparseTailGranularity + extra)
		if extra < 0 {
			require.True(t, s.NextTimeout().After(t0.Add(40*ms)), "no tail timer")
			continue
		}
		require.Equal(t, want, s.NextTimeout(), "extra %v", extra)
		s.OnTimeout(want)
		require.Equal(t, []uint64{0}, e.lost)
		require.Equal(t, []uint64{0}, e.requeued)
	}
}
