package congestion

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cubicAt100 grows a CUBIC to about 100 segments, loses a packet and ends
// recovery; it returns the controller, the driver and W_max in bytes.
func cubicAt100(t *testing.T, rtt time.Duration) (*Cubic, *driver, float64) {
	c := NewCubic(Config{MaxDatagramSize: mss, RTT: &fakeRTT{srtt: rtt, min: rtt, latest: rtt}})
	d := newDriver(c)
	for c.CongestionWindow() < 100*mss {
		d.round(rtt)
	}
	c.cwnd = 100 * mss // exactly 100 segments for round numbers
	d.fill()
	d.advance(rtt)
	d.lose(d.pending[0])
	require.Equal(t, 70*mss, c.SlowStartThreshold()) // β = 0.7
	require.Equal(t, 70*mss, c.CongestionWindow())
	require.True(t, c.InRecovery())
	d.ackAll() // packets sent before the loss: no growth
	require.Equal(t, 70*mss, c.CongestionWindow())
	return c, d, 100 * mss
}

func TestCubicFollowsCubicCurve(t *testing.T) {
	const rtt = 100 * time.Millisecond
	c, d, wMax := cubicAt100(t, rtt)
	k := math.Cbrt((wMax/mss - 70) / cubicC) // ≈ 4.22 s
	require.InDelta(t, 4.217, k, 0.01)
	d.round(rtt) // exits recovery; the epoch starts at the first CA ack
	require.False(t, c.InRecovery())
	epoch := c.epochStart
	for d.now.Sub(epoch) < 8*time.Second {
		d.round(rtt)
		ts := d.now.Sub(epoch).Seconds()
		w := func(t float64) float64 { return cubicC*math.Pow(t-k, 3)*mss + wMax }
		// cwnd tracks W_cubic(t+RTT), reached only partly within a round;
		// near the plateau the Reno-friendly W_est may be the larger.
		require.GreaterOrEqual(t, float64(c.CongestionWindow()), w(ts)-3*mss, "t=%.1fs", ts)
		require.LessOrEqual(t, float64(c.CongestionWindow()), max(w(ts+rtt.Seconds()), c.wEst)+mss, "t=%.1fs", ts)
	}
	require.Greater(t, c.CongestionWindow(), int(wMax)+15*mss) // W(8 s) ≈ 121.6 segments: convex region
}

func TestCubicRenoFriendlyRegion(t *testing.T) {
	const rtt = 10 * time.Millisecond // short RTT: Reno-friendly dominates
	c, d, _ := cubicAt100(t, rtt)
	d.round(rtt)
	start := float64(c.CongestionWindow())
	for i := 1; i <= 40; i++ {
		d.round(rtt)
	}
	// W_est grows by α_cubic ≈ 0.53 segments per RTT while below W_max.
	grown := (float64(c.CongestionWindow()) - start) / mss
	require.InDelta(t, 40*cubicAlpha, grown, 2.5)
	require.Greater(t, c.wEst, c.wCubic(c.k-3.5)) // really in that region
}

func TestCubicFastConvergence(t *testing.T) {
	c, d, _ := cubicAt100(t, 100*time.Millisecond)
	d.round(100 * time.Millisecond)
	cw := c.cwnd // below W_max = 100 segments
	require.Less(t, cw, 100.0*mss)
	d.fill()
	d.lose(d.pending[len(d.pending)-1])
	require.InDelta(t, cw*(1+cubicBeta)/2, c.wMax, 1)
	require.Equal(t, int(cw*cubicBeta), c.SlowStartThreshold())
	// Same window again: no second reduction.
	d.lose(d.pending[0])
	require.Equal(t, int(cw*cubicBeta), c.SlowStartThreshold())
}

func TestCubicRetransmissionTimeout(t *testing.T) {
	c, d, _ := cubicAt100(t, 100*time.Millisecond)
	d.round(100 * time.Millisecond)
	d.fill()
	cw := c.cwnd
	c.OnRetransmissionTimeout(d.now)
	require.Equal(t, mss, c.CongestionWindow())
	require.Equal(t, int(cw*cubicBeta), c.SlowStartThreshold())
	require.True(t, c.InSlowStart())
	c.OnRetransmissionTimeout(d.now)
	require.Equal(t, int(cw*cubicBeta), c.SlowStartThreshold(), "held on a repeated RTO")
}

func TestCubicTracer(t *testing.T) {
	var events []Event
	c := NewCubic(Config{MaxDatagramSize: mss, Tracer: func(e Event) { events = append(events, e) }})
	d := newDriver(c)
	d.round(time.Second)
	require.Len(t, events, 10)
	d.fill()
	d.lose(d.pending[0])
	last := events[len(events)-1]
	require.Equal(t, "recovery", last.State)
	require.Equal(t, 14*mss, last.CWND) // 20 × 0.7
	require.Equal(t, 14*mss, last.SSThresh)
	require.Equal(t, 19*mss, last.BytesInFlight)
	n := len(events)
	d.lose(d.pending[0]) // no change, no event
	require.Len(t, events, n)
}
