package flowsim

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/stretchr/testify/require"
)

func TestSenderLossDetectionAndRTO(t *testing.T) {
	var rtt RTTEstimator
	cc := congestion.NewNewReno(congestion.Config{MaxDatagramSize: 1000, RTT: &rtt, DisablePacing: true})
	s := NewSender(cc, &rtt, 1000)
	now := time.Unix(1, 0)
	var pns []uint64
	for {
		pn, _, ok, _ := s.TrySend(now)
		if !ok {
			break
		}
		pns = append(pns, pn)
	}
	require.Len(t, pns, 10)
	now = now.Add(50 * time.Millisecond)
	// Packet 1 is missing; acks of 2, 3 leave it outstanding, 4 declares it.
	s.OnAck(now, 2)
	s.OnAck(now, 3)
	require.Zero(t, s.Stats.DeclaredLost)
	require.False(t, s.Deadline().IsZero(), "time threshold armed for packet 1")
	s.OnAck(now, 4)
	require.Equal(t, uint64(1), s.Stats.DeclaredLost)
	require.True(t, cc.InRecovery())
	// The retransmission of packet 1's data goes first, as a new number.
	pn, unit, ok, _ := s.TrySend(now)
	require.True(t, ok)
	require.Equal(t, uint64(11), pn)
	require.Equal(t, uint64(0), unit)
	// Nothing else acked: the RTO declares the whole flight lost.
	now = s.Deadline()
	s.OnTimer(now)
	require.Equal(t, uint64(1), s.Stats.RTOs)
	require.Zero(t, s.BytesInFlight())
	require.Equal(t, 1000, cc.CongestionWindow())
	s.OnAck(now, 5) // late ack of a packet declared lost: ignored
	require.Zero(t, s.BytesInFlight())
}

func TestRTTEstimator(t *testing.T) {
	var e RTTEstimator
	require.Equal(t, time.Second, e.RTO())
	e.Update(100 * time.Millisecond)
	require.Equal(t, 100*time.Millisecond, e.SmoothedRTT())
	require.Equal(t, 300*time.Millisecond, e.RTO()) // srtt + 4 × srtt/2
	e.Update(60 * time.Millisecond)
	require.Equal(t, 95*time.Millisecond, e.SmoothedRTT())
	require.Equal(t, 60*time.Millisecond, e.MinRTT())
	require.Equal(t, 60*time.Millisecond, e.LatestRTT())
}
