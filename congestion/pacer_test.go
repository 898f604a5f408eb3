package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPacerSpreadsPackets(t *testing.T) {
	const rate = 8 * MbitPerSecond // 1 MB/s: one 1000-byte packet per ms
	p := NewPacer(mss, 2)
	now := time.Unix(1000, 0)
	require.True(t, p.TimeUntilSend(rate).IsZero(), "nothing sent yet")

	// The first 2 packets (the burst) go at once, then one per ms.
	var sends []time.Duration
	start := now
	for len(sends) < 12 {
		if at := p.TimeUntilSend(rate); at.After(now) {
			now = at
		}
		sends = append(sends, now.Sub(start))
		p.OnPacketSent(now, mss, rate)
	}
	require.Equal(t, time.Duration(0), sends[0])
	require.Equal(t, time.Duration(0), sends[1])
	for i := 2; i < len(sends); i++ {
		require.InDelta(t, float64(time.Millisecond), float64(sends[i]-sends[i-1]), float64(time.Microsecond))
	}
}

func TestPacerBurstAfterIdleIsCapped(t *testing.T) {
	const rate = 8 * MbitPerSecond
	p := NewPacer(mss, 4)
	now := time.Unix(1000, 0)
	p.OnPacketSent(now, mss, rate)
	now = now.Add(time.Second) // long idle: the budget is capped at 4 packets
	n := 0
	for p.TimeUntilSend(rate).IsZero() || !p.TimeUntilSend(rate).After(now) {
		p.OnPacketSent(now, mss, rate)
		n++
	}
	require.Equal(t, 4, n)
}

func TestPacerHighRateBurstCoversAMillisecond(t *testing.T) {
	const rate = 1000 * MbitPerSecond // 125 packets per ms
	p := NewPacer(mss, 2)
	require.Equal(t, 125000, p.maxBurst(rate))
	require.Equal(t, 2*mss, p.maxBurst(MbitPerSecond))
}

func TestPacerZeroRateMeansNoPacing(t *testing.T) {
	p := NewPacer(0, 0)
	now := time.Unix(1000, 0)
	for range 100 {
		p.OnPacketSent(now, 1200, 0)
	}
	require.True(t, p.TimeUntilSend(0).IsZero())
}

func TestRenoPacingGain(t *testing.T) {
	rtt := &fakeRTT{srtt: 50 * time.Millisecond}
	r := NewNewReno(Config{MaxDatagramSize: mss, RTT: rtt})
	require.Equal(t, Bandwidth(2*10*mss*8*20), r.PacingRate()) // ×2 in slow start
	r.ssthresh = r.cwnd
	require.Equal(t, Bandwidth(1.25*10*mss*8*20), r.PacingRate()) // ×1.25 in CA
	r = NewNewReno(Config{MaxDatagramSize: mss, RTT: rtt, DisablePacing: true})
	require.Zero(t, r.PacingRate())
	require.True(t, r.TimeUntilSend(0).IsZero())
}
