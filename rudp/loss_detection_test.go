package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fates builds a history of ack-eliciting transmissions sent 20 ms apart
// from a fate string ('a' acknowledged, 'l' lost, 'f' still in flight,
// '.' a pure ack, not ack-eliciting) and settles it at the end.
func fates(t0 time.Time, fs string) (*SentHistory, time.Time) {
	var h SentHistory
	for i, c := range fs {
		p := SentPacket{Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Size: 100,
			AckEliciting: c != '.', InFlight: c != '.'}
		h.Add(p)
		q := h.Get(h.NextPN() - 1)
		switch c {
		case 'a':
			h.MarkAcked(q)
		case 'l':
			h.MarkLost(q)
		}
	}
	return &h, t0.Add(time.Duration(len(fs)) * 20 * time.Millisecond)
}

func TestBurstEstimator(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const wait = 30 * time.Millisecond
	for _, tc := range []struct {
		name         string
		fates        string
		pairs, both  float64
		copies       int
		cursorBefore int // settle stops before this packet (-1: settles all)
	}{
		{"no_loss_no_evidence", "aaaaaaaa", 0, 0, 4, -1},
		{"isolated_losses_two_copies", "alaaalaaalaaalaaalaaalaaalaaalaaalaa", 9, 0, 2, -1},
		{"bursts_of_three_many_copies", "alllaaalllaaalllaaalllaaalllaaalllaaalllaa", 21, 14, 6, -1},
		{"bursts_of_two", "allaaaallaaaallaaaallaaaallaaaallaaaallaaa", 14, 7, 4, -1},
		{"pure_acks_between_do_not_count", "al.l.l.la", 4, 3, 6, -1},
		{"in_flight_stops_the_scan", "alaafll", 1, 0, 3, 4},
		{"loss_declared_too_recently_waits", "aaal", 0, 0, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, now := fates(t0, tc.fates)
			var b burstEstimator
			end := now.Add(wait)
			if tc.cursorBefore >= 0 {
				end = now.Add(-20*time.Millisecond + wait - time.Millisecond) // the last packet's wait not over
			}
			b.settle(h, end, wait)
			require.Equal(t, tc.pairs, b.pairs, "pairs after a loss")
			require.Equal(t, tc.both, b.both, "losses after a loss")
			require.Equal(t, tc.copies, b.copies())
			if tc.cursorBefore >= 0 {
				require.Equal(t, uint64(tc.cursorBefore), b.cursor)
			}
		})
	}
	t.Run("pruned_history_resets_the_previous_fate", func(t *testing.T) {
		h, now := fates(t0, "lf")
		var b burstEstimator
		b.settle(h, now.Add(wait), wait)
		require.Equal(t, uint64(1), b.cursor)
		h.Prune(func(*SentPacket) bool { return true }) // the session dropped it unsettled
		h.Add(SentPacket{Time: now, AckEliciting: true})
		h.MarkLost(h.Get(h.NextPN() - 1))
		b.settle(h, now.Add(wait), wait)
		require.Zero(t, b.pairs, "a loss after a gap in the history pairs with nothing")
	})
	t.Run("counts_halve_past_the_maximum", func(t *testing.T) {
		var b burstEstimator
		for i := 0; i < 200; i++ {
			h, now := fates(t0, "ll")
			b.cursor, b.prevLost = 0, 0
			b.settle(h, now.Add(wait), wait)
		}
		require.Less(t, b.pairs, float64(burstMaxPairs))
		require.Equal(t, b.pairs, b.both)
	})
}

func TestRTTMaxFilter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	var f rttMaxFilter
	_, ok := f.max(t0)
	require.False(t, ok, "empty")
	for i := 0; i < rttMaxMinSamples-1; i++ {
		f.add(t0.Add(time.Duration(i)*20*ms), 20*ms, 20*ms)
	}
	_, ok = f.max(t0.Add(200 * ms))
	require.False(t, ok, "too few samples")
	f.add(t0.Add(200*ms), 29*ms, 20*ms)
	m, ok := f.max(t0.Add(200 * ms))
	require.True(t, ok)
	require.Equal(t, 29*ms, m)
	// Samples at 50 Hz for two more seconds, none above 22 ms: the 29 ms
	// peak leaves the one-second window.
	for i := 1; i <= 100; i++ {
		f.add(t0.Add(200*ms+time.Duration(i)*20*ms), 22*ms, 20*ms)
	}
	m, ok = f.max(t0.Add(2200 * ms))
	require.True(t, ok)
	require.Equal(t, 22*ms, m)
	// A long RTT stretches the window to 16 SRTTs.
	var g rttMaxFilter
	for i := 0; i < 40; i++ {
		g.add(t0.Add(time.Duration(i)*100*ms), time.Duration(300+i)*ms, 300*ms)
	}
	m, ok = g.max(t0.Add(4 * time.Second))
	require.True(t, ok)
	require.Equal(t, 339*ms, m)
	require.Equal(t, 16*300*ms/rttMaxBuckets, g.span)
}

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
		require.Equal(t, now.Add(28*ms+TailGranularity), tail, "largest recent RTT + granularity, not SRTT + 4·RTTVAR")
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
		tail, pn := st.t.tailDeadline()
		require.Equal(t, uint64(0+e.hist.NextPN()-2), pn)
		require.Equal(t, now.Add(28*ms+TailGranularity), tail)
		p1 := e.hist.Get(e.hist.NextPN() - 1)
		require.Equal(t, 28*ms+TailGranularity+DefaultMaxAckDelay, st.t.tailDelay(p1, true))
		// Three copies of one frame sent back to back are acknowledged at
		// once when two of them arrive.
		now = tail
		s.OnTimeout(now)
		for f := e.sb.PopRetransmit(); f != nil; f = e.sb.PopRetransmit() {
			e.sb.QueueRetransmit(f.Seq)
			e.resend(now, s, f.Seq)
		}
		last := e.hist.Get(e.hist.NextPN() - 1)
		require.Equal(t, 28*ms+TailGranularity, st.t.tailDelay(last, true))
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

func TestRACKShortFlight(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	newTimed := func(e *fakeEnv) Strategy { return NewTimed(e, 0) }
	// jitteryEnv's RTT samples span 12..28 ms: the window is half the
	// spread, 8 ms.
	t.Run("lost_retransmission_found_when_a_later_packet_is_acked", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		lost := e.send(now, s)
		now = now.Add(30 * ms)
		s.OnTimeout(now) // tail expiry
		require.Contains(t, e.lost, lost.PN)
		e.resend(now, s, lost.Seq) // the retransmission, lost too
		retx := e.hist.NextPN() - 1
		for e.sb.Get(lost.Seq).Queued {
			e.resend(now, s, lost.Seq)
		}
		require.Zero(t, st.t.backoff)
		// A message sent 10 ms later (beyond the window) is acknowledged
		// 15 ms after that, long before the retransmission's tail timer
		// (one max RTT): the retransmission is lost at once.
		next := e.send(now.Add(10*ms), s)
		tail, _ := st.t.tailDeadline()
		ackAt := now.Add(25 * ms)
		require.True(t, ackAt.Before(tail))
		e.ack(ackAt, s, next.PN)
		require.Contains(t, e.lost, retx)
		require.True(t, e.sb.Get(lost.Seq).Queued, "resent without backoff")
		require.Zero(t, st.t.backoff)
		require.Zero(t, e.rtos)
	})
	t.Run("packet_within_the_window_waits", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		p := e.send(now, s)
		q := e.send(now.Add(5*ms), s) // 5 ms later: may have overtaken p
		e.ack(now.Add(20*ms), s, q.PN)
		require.NotContains(t, e.lost, p.PN)
		// Lost once it had q's RTT (15 ms) plus the window (8 ms).
		require.Equal(t, now.Add(15*ms+8*ms), st.t.lossTime)
		s.OnTimeout(st.t.lossTime)
		require.Contains(t, e.lost, p.PN)
	})
	t.Run("spurious_loss_widens_the_window", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		st := s.(*Timed)
		p := e.send(now, s)
		q := e.send(now.Add(10*ms), s)
		e.ack(now.Add(25*ms), s, q.PN)
		require.Contains(t, e.lost, p.PN)
		e.ack(now.Add(26*ms), s, p.PN) // it was only late
		require.Equal(t, 1, st.t.rack.mult)
		_, w, ok := st.t.rack.window(&e.rtt, &st.t.rttMax, q, now.Add(26*ms))
		require.True(t, ok)
		require.Equal(t, 16*ms, w)
	})
	t.Run("long_flight_has_no_rack", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, newTimed)
		first := e.hist.NextPN()
		for i := 0; i < 40; i++ {
			e.send(now.Add(time.Duration(i)*ms), s)
		}
		e.ack(now.Add(35*ms), s, first+39)
		require.Len(t, e.lost, 39-PacketThreshold+1, "packet threshold only")
		require.NotContains(t, e.lost, first+39-PacketThreshold+1)
	})
	t.Run("nack_short_flight_resends_on_rack", func(t *testing.T) {
		e, s, now := jitteryEnv(t, t0, func(e *fakeEnv) Strategy { return NewNACK(e, 0, 0) })
		p := e.send(now, s)
		q := e.send(now.Add(20*ms), s)
		e.ack(now.Add(35*ms), s, q.PN)
		require.Contains(t, e.lost, p.PN, "declared lost by the sender, not left to the NACK")
		require.True(t, e.sb.Get(p.Seq).Queued)
	})
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
