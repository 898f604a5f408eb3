package rtcp

import (
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestReceiverStatsExtendedSeqAtWrapEdges(t *testing.T) {
	for _, start := range []uint16{0, 32766, 32767, 32768, 65534, 65535} {
		s := NewReceiverStats(1, 90000)
		now := t0
		for i := range 10 {
			require.True(t, s.OnPacket(now, start+uint16(i), 0))
		}
		want := uint32(start) + 9
		require.Equal(t, want, s.ExtendedHighestSeq(), "start %d", start)
		require.EqualValues(t, 10, s.Expected())
		require.EqualValues(t, 0, s.CumulativeLost())
	}
}

func TestReceiverStatsLossAndReorder(t *testing.T) {
	tests := []struct {
		name         string
		seqs         []uint16
		wantExpected uint32
		wantLost     int64
		wantFraction uint8
	}{
		{"no_loss", []uint16{10, 11, 12, 13}, 4, 0, 0},
		{"one_of_four_lost", []uint16{10, 11, 13}, 4, 1, 64},
		{"reordered_not_lost", []uint16{10, 12, 11, 13}, 4, 0, 0},
		{"duplicate_makes_negative", []uint16{10, 11, 11, 12}, 3, -1, 0},
		{"loss_across_wrap", []uint16{65534, 65535, 1, 2}, 5, 1, 51},
		{"late_packet_before_wrap", []uint16{65534, 0, 65535, 1}, 4, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewReceiverStats(7, 90000)
			for _, q := range tc.seqs {
				s.OnPacket(t0, q, 0)
			}
			require.Equal(t, tc.wantExpected, s.Expected())
			require.Equal(t, tc.wantLost, s.CumulativeLost())
			rr, ok := s.Report(t0)
			require.True(t, ok)
			require.Equal(t, tc.wantFraction, rr.FractionLost)
			require.Equal(t, int32(tc.wantLost), TotalLostSigned(rr))
			require.EqualValues(t, 7, rr.SSRC)
		})
	}
}

func TestReceiverStatsFractionIsPerInterval(t *testing.T) {
	s := NewReceiverStats(1, 90000)
	for q := range uint16(100) {
		if q%10 != 5 {
			s.OnPacket(t0, q, 0)
		}
	}
	rr, _ := s.Report(t0)
	require.EqualValues(t, 10*256/100, rr.FractionLost)
	for q := uint16(100); q < 200; q++ {
		s.OnPacket(t0, q, 0)
	}
	rr, _ = s.Report(t0)
	require.EqualValues(t, 0, rr.FractionLost, "second interval had no loss")
	require.EqualValues(t, 10, rr.TotalLost)
}

func TestReceiverStatsLargeJumpNeedsConfirmation(t *testing.T) {
	s := NewReceiverStats(1, 90000)
	s.OnPacket(t0, 100, 0)
	s.OnPacket(t0, 101, 0)
	require.False(t, s.OnPacket(t0, 20000, 0), "jump not yet confirmed")
	require.True(t, s.OnPacket(t0, 20001, 0), "sequential follow-up restarts the source")
	require.EqualValues(t, 20001, s.ExtendedHighestSeq())
}

func TestReceiverStatsJitterA8(t *testing.T) {
	t.Run("constant_transit_has_zero_jitter", func(t *testing.T) {
		s := NewReceiverStats(1, 90000)
		for i := range 100 {
			now := t0.Add(time.Duration(i) * 33 * time.Millisecond)
			s.OnPacket(now, uint16(i), uint32(i*33*90))
		}
		require.EqualValues(t, 0, s.Jitter())
	})
	t.Run("uniform_jitter_converges", func(t *testing.T) {
		// Transit uniform in [0, 20 ms]: E|D| for the difference of two
		// uniforms on [0,a] is a/3, i.e. 6.67 ms = 600 ticks at 90 kHz.
		rng := rand.New(rand.NewSource(1))
		s := NewReceiverStats(1, 90000)
		var sum float64
		n := 0
		for i := range 5000 {
			send := time.Duration(i) * 10 * time.Millisecond
			delay := time.Duration(rng.Int63n(int64(20 * time.Millisecond)))
			s.OnPacket(t0.Add(send+delay), uint16(i), uint32(send*90000/time.Second))
			if i > 100 {
				sum += float64(s.Jitter())
				n++
			}
		}
		require.InDelta(t, 600, sum/float64(n), 60)
		require.InDelta(t, 6.67, float64(s.JitterDuration())/1e6, 1.5)
	})
}

func TestLSRDLSRAndRoundTrip(t *testing.T) {
	recv := NewReceiverStats(1, 90000)
	recv.OnPacket(t0, 1, 0)
	rr, _ := recv.Report(t0)
	require.Zero(t, rr.LastSenderReport, "no SR yet")
	_, ok := RoundTripTime(t0, rr)
	require.False(t, ok)

	// Sender sends SR at t0; it arrives 20 ms later; the receiver holds it
	// 100 ms and reports; the report arrives 30 ms later: RTT 50 ms.
	sr := BuildSenderReport(t0, SenderInfo{SSRC: 1}, nil)
	recv.OnSenderReport(t0.Add(20*time.Millisecond), sr.NTPTime)
	rr, _ = recv.Report(t0.Add(120 * time.Millisecond))
	require.Equal(t, NTPMiddle(sr.NTPTime), rr.LastSenderReport)
	require.InDelta(t, 100*time.Millisecond, compactToDuration(rr.Delay), float64(50*time.Microsecond))
	rtt, ok := RoundTripTime(t0.Add(150*time.Millisecond), rr)
	require.True(t, ok)
	require.InDelta(t, 50*time.Millisecond, rtt, float64(100*time.Microsecond))
}

func TestNTPTime(t *testing.T) {
	ntp := NTPTime(time.Unix(0, 500_000_000))
	require.EqualValues(t, ntpEpochOffset, ntp>>32)
	require.EqualValues(t, 1<<31, uint32(ntp))
}
