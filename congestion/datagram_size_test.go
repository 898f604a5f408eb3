package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSetMaxDatagramSize: after the segment grows from 1200 to 1452
// bytes, a retransmission timeout leaves each controller its one (NewReno,
// Cubic) or four (BBR) segments of the new size; a smaller or absurd size
// is ignored; the window in bytes is not touched by the change itself.
func TestSetMaxDatagramSize(t *testing.T) {
	now := time.Unix(1, 0)
	for _, tc := range []struct {
		name     string
		newCC    func(Config) Controller
		segments int // cwnd after an RTO, in segments
	}{
		{"newreno", func(c Config) Controller { return NewNewReno(c) }, 1},
		{"cubic", func(c Config) Controller { return NewCubic(c) }, 1},
		{"bbr", func(c Config) Controller { return NewBBR(c) }, bbrMinPipePackets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := tc.newCC(Config{MaxDatagramSize: 1200, Seed: 1})
			before := cc.CongestionWindow()
			s, ok := cc.(DatagramSizeSetter)
			require.True(t, ok)
			s.SetMaxDatagramSize(1452)
			s.SetMaxDatagramSize(1300)  // smaller: ignored
			s.SetMaxDatagramSize(70000) // not a datagram: ignored
			require.Equal(t, before, cc.CongestionWindow(), "the window in bytes stays")
			cc.OnPacketSent(now, 1, 1452, 0)
			cc.OnRetransmissionTimeout(now)
			require.Equal(t, tc.segments*1452, cc.CongestionWindow())
		})
	}
}
