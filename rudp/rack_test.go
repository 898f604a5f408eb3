package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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
