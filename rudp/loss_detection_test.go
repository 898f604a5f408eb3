package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// jitteryEnv returns a Timed strategy whose RTT estimator saw samples
// alternating between 12 and 28 ms (RTTVAR large, SRTT about 20 ms), fed
// through acknowledgements so the strategy's max filter saw them too.
func jitteryEnv(t *testing.T, t0 time.Time, newStrategy func(e *fakeEnv) Strategy) (*fakeEnv, Strategy, time.Time) {
	t.Helper()
	ms := time.Millisecond
	e := &fakeEnv{}
	s := newStrategy(e)
	now := t0
	for i := 0; i < 20; i++ {
		p := e.send(now, s)
		now = now.Add(20 * ms)
		e.rtt.Update(time.Duration(12+16*(i%2))*ms, 0)
		e.ack(now, s, p.PN)
	}
	return e, s, now
}

func TestTimedShortFlightRules(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	newTimed := func(e *fakeEnv) Strategy { return NewTimed(e, 0) }
	t.Run("sparse_tail_delay_bounded_by_max_rtt", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		require.Greater(t, 4*e.rtt.RTTVar(), 10*ms, "the jitter inflates RTTVAR")
		p := e.send(now, s)
		tail, pn := s.(*Timed).t.tailDeadline()
		require.Equal(t, p.PN, pn)
		require.Equal(t, now.Add(28*ms+SparseTailGranularity), tail, "largest recent RTT + granularity, not SRTT + 4·RTTVAR")
	})
	t.Run("long_flight_keeps_rttvar_delay", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		for i := 0; i < 40; i++ {
			e.send(now, s)
		}
		tail, pn := s.(*Timed).t.tailDeadline()
		require.GreaterOrEqual(t, pn, e.hist.NextPN()-PacketThreshold, "one of the last three")
		r := &e.rtt
		require.Equal(t, now.Add(r.SmoothedRTT()+4*r.RTTVar()+DefaultMaxAckDelay), tail, "bulk: SRTT + 4·RTTVAR + ack delay, as before")
	})
	t.Run("lost_retransmission_resent_without_backoff_while_acks_arrive", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		lost := e.send(now, s) // a message the burst takes
		for round := 0; round < 3; round++ {
			tail, pn := st.t.tailDeadline()
			require.Equal(t, lost.Seq, e.hist.Get(pn).Seq, "round %d", round)
			require.LessOrEqual(t, tail.Sub(e.hist.Get(pn).Time), 30*ms+TailGranularity, "round %d: about one RTT, no backoff", round)
			now = tail
			s.OnTimeout(now)
			for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
				e.sb.QueueRetransmit(f.Seq)
				e.resend(now, s, f.Seq) // every copy dies in the burst
			}
			// The next message gets through: the path is alive.
			now = now.Add(5 * ms)
			next := e.send(now, s)
			now = now.Add(20 * ms)
			e.ack(now, s, next.PN)
			require.Zero(t, st.t.backoff)
			require.Zero(t, st.t.tailFires, "an acknowledgement resets the expiry count")
		}
		require.Zero(t, e.rtos)
	})
	t.Run("dead_path_backs_off", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		e.send(now, s)
		fires := 0
		for fires < maxTailFires {
			tail, _ := st.t.tailDeadline()
			require.False(t, tail.IsZero())
			now = tail
			s.OnTimeout(now)
			for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
				e.sb.QueueRetransmit(f.Seq)
				e.resend(now, s, f.Seq)
			}
			fires++
		}
		tail, _ := st.t.tailDeadline()
		require.True(t, tail.IsZero(), "no acknowledgement: the tail timer is spent")
		rto := e.rtt.RTO()
		for i := 0; e.rtos < 3; i++ {
			require.Less(t, i, 10)
			d := s.NextTimeout()
			s.OnTimeout(d) // the tail-loss probe, then RTOs
			for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
				e.sb.QueueRetransmit(f.Seq)
				e.resend(d, s, f.Seq)
			}
			if e.rtos > 0 {
				// Per-packet timers, backed off: RTO·2^n after the oldest
				// outstanding transmission.
				require.Equal(t, e.rtos, st.t.backoff)
				require.Equal(t, st.t.oldest().Time.Add(rto<<e.rtos), s.NextTimeout(), "after RTO %d", e.rtos)
			}
		}
	})
	t.Run("copies_of_a_repeated_probe_add_no_ack_delay", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		e.send(now, s)
		e.send(now.Add(ms), s) // not sparse: its ack may be delayed
		st.t.prune(now)        // the history forgets acknowledged packets; the gaps are kept
		tail, pn := st.t.tailDeadline()
		require.Equal(t, uint64(0+e.hist.NextPN()-2), pn)
		require.Equal(t, now.Add(28*ms+SparseTailGranularity), tail)
		p1 := e.hist.Get(e.hist.NextPN() - 1)
		r := &e.rtt
		require.Equal(t, r.SmoothedRTT()+4*r.RTTVar()+DefaultMaxAckDelay, st.t.tailDelay(p1, true),
			"back to back: the ack may be delayed, and no max-RTT bound (a starting flight's queue outgrows it)")
		// Three copies of one frame sent back to back are acknowledged at
		// once when two of them arrive.
		now = tail
		s.OnTimeout(now)
		for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
			e.sb.QueueRetransmit(f.Seq)
			e.resend(now, s, f.Seq)
		}
		last := e.hist.Get(e.hist.NextPN() - 1)
		require.Equal(t, 28*ms+SparseTailGranularity, st.t.tailDelay(last, true))
	})
	t.Run("time_threshold_loss_in_short_flight_sends_copies", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		st.t.burst = burstEstimator{pairs: 30, both: 20} // P(lost | previous lost) 2/3
		lost := e.send(now, s)
		next := e.send(now.Add(20*ms), s)
		// The next message's acknowledgement comes after the loss delay.
		e.ack(now.Add(20*ms+st.t.lossDelay()), s, next.PN)
		require.Equal(t, []uint64{lost.PN}, e.lost[len(e.lost)-1:])
		e.resend(now.Add(60*ms), s, lost.Seq)
		n := 1
		for e.sb.Get(lost.Seq).Queued {
			e.resend(now.Add(60*ms), s, lost.Seq)
			n++
		}
		require.Equal(t, maxTailCopies, n, "copies for a 2/3 chance that the next packet is lost too")
	})
	t.Run("long_flight_loss_sends_one_copy", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		st.t.burst = burstEstimator{pairs: 30, both: 20}
		first := e.hist.NextPN()
		for i := 0; i < 40; i++ {
			e.send(now, s)
		}
		e.ack(now.Add(20*ms), s, first+5, first+6, first+7, first+8)
		require.NotEmpty(t, e.lost)
		seq := e.hist.Get(e.lost[0]).Seq
		e.resend(now.Add(20*ms), s, seq)
		require.False(t, e.sb.Get(seq).Queued, "fast retransmit of a bulk flight: one copy")
	})
}

func TestNACKShortFlightAnswerSendsCopies(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	e, s, now := jitteryEnv(t, t0, func(e *fakeEnv) Strategy { return NewNACK(e, 0, 0) })
	n := s.(*NACK)
	n.t.burst = burstEstimator{pairs: 30, both: 10} // P(lost | previous lost) 1/3: three copies
	lost := e.send(now, s)
	e.send(now.Add(20*ms), s)
	var a AckFrame
	a.AddNack(uint32(lost.Seq), 1)
	s.OnAckReceived(now.Add(35*ms), &a, false, false)
	require.Equal(t, lost.Seq, e.requeued[len(e.requeued)-1])
	copies := 0
	for e.sb.Get(lost.Seq).Queued {
		e.resend(now.Add(35*ms), s, lost.Seq)
		copies++
	}
	require.Equal(t, 3, copies)
}

func TestRepeatLargeFrames(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e, s, now := jitteryEnv(t, t0, func(e *fakeEnv) Strategy { return NewTimed(e, 0) })
	st := s.(*Timed)
	st.t.burst = burstEstimator{pairs: 30, both: 20}
	f := e.sb.Push(KindStream, FrameFirst|FrameLast, 0, make([]byte, 1200))
	f.LastPN, f.LastSent, f.Transmissions = e.hist.NextPN(), now, 1
	e.hist.Add(SentPacket{Time: now, Size: 1240, Seq: f.Seq, HasSeq: true, AckEliciting: true, InFlight: true})
	s.OnPacketSent(now, e.hist.Get(e.hist.NextPN()-1), nil)
	tail, _ := st.t.tailDeadline()
	s.OnTimeout(tail)
	n := 0
	for e.sb.Get(f.Seq).Queued {
		e.resend(tail, s, f.Seq)
		n++
	}
	require.Equal(t, 2, n, "a full-size frame: the tail expiry's two copies, not the burst's six")
}

// TestRepeatAfterAcknowledgedCopies: a frame acknowledged while copies of
// it were still to go does not keep later frames from their copies.
func TestRepeatAfterAcknowledgedCopies(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	e, s, now := jitteryEnv(t, t0, func(e *fakeEnv) Strategy { return NewTimed(e, 0) })
	st := s.(*Timed)
	st.t.burst = burstEstimator{pairs: 30, both: 20}
	a := e.send(now, s)
	tail, _ := st.t.tailDeadline()
	s.OnTimeout(tail)
	e.resend(tail, s, a.Seq) // one copy leaves, the window closes
	require.Positive(t, st.t.dupLeft)
	e.ack(tail.Add(ms), s, a.PN) // the original arrived after all
	b := e.send(tail.Add(2*ms), s)
	tail, _ = st.t.tailDeadline()
	s.OnTimeout(tail)
	n := 0
	for e.sb.Get(b.Seq).Queued {
		e.resend(tail, s, b.Seq)
		n++
	}
	require.Equal(t, maxTailCopies, n)
}
