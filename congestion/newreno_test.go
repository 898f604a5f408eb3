package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newTestReno() *NewReno { return NewNewReno(Config{MaxDatagramSize: mss}) }

func TestNewRenoSlowStartDoubles(t *testing.T) {
	r := newTestReno()
	d := newDriver(r)
	require.Equal(t, 10*mss, r.CongestionWindow())
	require.True(t, r.InSlowStart())
	for _, want := range []int{20, 40, 80, 160} {
		d.round(100 * time.Millisecond)
		require.Equal(t, want*mss, r.CongestionWindow())
		require.Equal(t, "slow_start", r.State())
	}
}

// toCongestionAvoidance runs slow start to 40 packets, loses the first
// packet of the next window and returns the driver in recovery.
func lossAt40(t *testing.T) (*NewReno, *driver) {
	r := newTestReno()
	d := newDriver(r)
	d.round(time.Second)
	d.round(time.Second) // cwnd 40
	require.Equal(t, 40*mss, r.CongestionWindow())
	require.Equal(t, 40, d.fill())
	d.advance(time.Second)
	first := d.pending[0]
	for _, pn := range d.pending[1:4] { // three packets beyond the hole
		d.ack(pn)
	}
	d.lose(first) // prior flight: 37 packets
	return r, d
}

func TestNewRenoFastRecovery(t *testing.T) {
	r, d := lossAt40(t)
	// ssthresh = max(FlightSize/2, 2) = 37/2 = 18.5 segments (bytes, floor).
	require.Equal(t, 37*mss/2, r.SlowStartThreshold())
	require.Equal(t, 37*mss/2+3*mss, r.CongestionWindow())
	require.True(t, r.InRecovery())
	require.Equal(t, "recovery", r.State())

	// Each further duplicate ack inflates by one SMSS.
	for i := 1; i <= 3; i++ {
		r.OnDuplicateAck(d.now)
		require.Equal(t, 37*mss/2+(3+i)*mss, r.CongestionWindow())
	}
	// A partial ack (packet sent before recovery) keeps recovery and, for a
	// full-sized packet, leaves cwnd as it was (deflate mss, add back mss).
	before := r.CongestionWindow()
	d.ack(d.pending[0])
	require.True(t, r.InRecovery())
	require.Equal(t, before, r.CongestionWindow())

	// A second loss in the same window does not reduce again.
	d.lose(d.pending[0])
	require.Equal(t, 37*mss/2, r.SlowStartThreshold())
	require.Equal(t, before, r.CongestionWindow())

	// Ack of a packet sent after recovery began: deflate to ssthresh.
	d.send(1)
	d.ack(d.pending[len(d.pending)-1])
	require.False(t, r.InRecovery())
	require.Equal(t, 37*mss/2, r.CongestionWindow())
	require.Equal(t, "congestion_avoidance", r.State())
}

func TestNewRenoPartialAckSmallPacket(t *testing.T) {
	r, d := lossAt40(t)
	cw := r.CongestionWindow()
	pn := d.pending[0]
	d.remove(pn)
	r.OnPacketAcked(d.now, pn, 300, d.flight) // less than one SMSS acked
	require.Equal(t, cw-300, r.CongestionWindow())
	require.True(t, r.InRecovery())
}

func TestNewRenoCongestionAvoidanceLinear(t *testing.T) {
	r, d := lossAt40(t)
	d.ackAll() // partial acks
	require.True(t, r.InRecovery())
	d.send(1)
	d.ackAll() // full ack: cwnd = ssthresh = 18500
	require.Equal(t, 18500, r.CongestionWindow())
	want := 18500
	for range 5 {
		sent := d.round(time.Second)
		require.GreaterOrEqual(t, sent, want/mss)
		want += mss // one SMSS per window of acked bytes
		require.InDelta(t, want, r.CongestionWindow(), mss, "after a round of %d packets", sent)
	}
	require.Equal(t, "congestion_avoidance", r.State())
}

func TestNewRenoOneReductionPerWindow(t *testing.T) {
	r, d := lossAt40(t)
	ss := r.SlowStartThreshold()
	for len(d.pending) > 20 {
		d.lose(d.pending[0]) // losses of packets sent before the reduction
	}
	require.Equal(t, ss, r.SlowStartThreshold())
	// Exit recovery, then a loss of a packet sent later reduces again.
	d.send(1)
	d.ack(d.pending[len(d.pending)-1])
	d.ackAll()
	d.fill()
	d.lose(d.pending[0])
	require.Less(t, r.SlowStartThreshold(), ss)
	require.True(t, r.InRecovery())
}

func TestNewRenoRetransmissionTimeout(t *testing.T) {
	r := newTestReno()
	d := newDriver(r)
	d.round(time.Second)
	d.fill() // 20 packets in flight
	require.Equal(t, 20*mss, d.flight)
	r.OnRetransmissionTimeout(d.now)
	require.Equal(t, 10*mss, r.SlowStartThreshold())
	require.Equal(t, mss, r.CongestionWindow())
	require.True(t, r.InSlowStart())
	require.False(t, r.InRecovery())

	// A second RTO before anything new is acked holds ssthresh.
	r.OnRetransmissionTimeout(d.now)
	require.Equal(t, 10*mss, r.SlowStartThreshold())

	// The caller declares the outstanding packets lost: no further cut.
	for len(d.pending) > 0 {
		d.lose(d.pending[0])
	}
	require.Equal(t, 10*mss, r.SlowStartThreshold())
	require.Equal(t, mss, r.CongestionWindow())

	// Slow start again: 1, 2, 4, 8, then congestion avoidance at 10.
	for _, want := range []int{2, 4, 8, 16} {
		d.round(time.Second)
		if want > 10 {
			require.False(t, r.InSlowStart())
			require.InDelta(t, 10*mss, r.CongestionWindow(), 2*mss)
		} else {
			require.Equal(t, want*mss, r.CongestionWindow())
		}
	}
}

func TestNewRenoApplicationLimitedDoesNotGrow(t *testing.T) {
	r := newTestReno()
	d := newDriver(r)
	for range 5 {
		d.send(2) // far below the 10-packet window
		d.advance(time.Second)
		d.ackAll()
	}
	require.Equal(t, 10*mss, r.CongestionWindow())
}

func TestNewRenoTracerAndPacing(t *testing.T) {
	var events []Event
	rtt := &fakeRTT{srtt: 100 * time.Millisecond}
	r := NewNewReno(Config{MaxDatagramSize: mss, RTT: rtt, Tracer: func(e Event) { events = append(events, e) }})
	d := newDriver(r)
	// 10 packets / 100 ms × 2 (slow start) = 1.6 Mbit/s.
	require.Equal(t, Bandwidth(1_600_000), r.PacingRate())
	d.round(100 * time.Millisecond)
	require.Len(t, events, 10) // one per cwnd change
	require.Equal(t, 20*mss, events[9].CWND)
	require.Equal(t, "slow_start", events[9].State)
	d.fill()
	d.lose(d.pending[0])
	last := events[len(events)-1]
	require.Equal(t, "recovery", last.State)
	require.Equal(t, r.SlowStartThreshold(), last.SSThresh)
}
