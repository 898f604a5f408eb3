package congestion

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero_is_valid", Config{}, ""},
		{"negative_datagram", Config{MaxDatagramSize: -1}, "MaxDatagramSize -1"},
		{"tiny_datagram", Config{MaxDatagramSize: 10}, "MaxDatagramSize 10 below 64"},
		{"negative_initial_window", Config{InitialWindowPackets: -3}, "InitialWindowPackets -3"},
		{"negative_min_window", Config{MinWindowPackets: -1}, "MinWindowPackets -1"},
		{"negative_burst", Config{PacingBurstPackets: -1}, "PacingBurstPackets -1"},
		{"max_below_initial", Config{MaxWindowBytes: 5000}, "MaxWindowBytes 5000 below the initial window 12000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewByName(t *testing.T) {
	for name, want := range map[string]string{
		"": "startup", "bbr": "startup", "BBR": "startup", "reno": "slow_start", "newreno": "slow_start",
		"cubic": "slow_start", "none": "fixed", "fixed": "fixed",
	} {
		c, err := New(name, Config{})
		require.NoError(t, err, name)
		require.Equal(t, want, c.State(), name)
		require.Equal(t, 10*DefaultMaxDatagramSize, c.CongestionWindow(), name)
	}
	_, err := New("vegas", Config{})
	require.ErrorIs(t, err, ErrUnknownController)
	require.ErrorContains(t, err, `"vegas"`)
	_, err = New("reno", Config{MaxDatagramSize: -5})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestConstructorsNeverFailOnBadConfig(t *testing.T) {
	bad := Config{MaxDatagramSize: -1, InitialWindowPackets: -1, MinWindowPackets: -1, MaxWindowBytes: -1}
	for _, c := range []Controller{NewNewReno(bad), NewCubic(bad), NewBBR(bad), NewFixed(-1)} {
		require.Positive(t, c.CongestionWindow())
		require.True(t, c.CanSend(0))
		now := time.Unix(1, 0)
		c.OnPacketAcked(now, 99, 1200, 0) // unknown packet: ignored, no panic
		c.OnCongestionEvent(now, 98, 1200, 0)
		c.OnRetransmissionTimeout(now)
		c.OnDuplicateAck(now)
		require.Positive(t, c.CongestionWindow())
	}
}

func TestFixedIgnoresLoss(t *testing.T) {
	var events int
	c, err := New("none", Config{MaxDatagramSize: mss, InitialWindowPackets: 30, Tracer: func(Event) { events++ }})
	require.NoError(t, err)
	d := newDriver(c)
	require.Equal(t, 30, d.fill())
	d.lose(d.pending[0])
	c.OnRetransmissionTimeout(d.now)
	require.Equal(t, 30*mss, c.CongestionWindow())
	require.False(t, c.InRecovery())
	require.Zero(t, c.PacingRate())
	require.Equal(t, 1, events)
}

func TestMaxFilterExpires(t *testing.T) {
	f := maxFilter{window: 10}
	require.Equal(t, Bandwidth(100), f.update(100, 1))
	require.Equal(t, Bandwidth(100), f.update(50, 5))
	require.Equal(t, Bandwidth(100), f.update(60, 8))
	require.Equal(t, Bandwidth(100), f.update(40, 11))
	// At 12 the 100 from round 1 is older than the window: the best newer
	// sample (60 from round 8) takes over.
	require.Equal(t, Bandwidth(60), f.update(30, 12))
	require.Equal(t, Bandwidth(70), f.update(70, 13))
	require.Equal(t, Bandwidth(5), f.update(5, 40))
}

func TestSamplerRingGrowsAndForgets(t *testing.T) {
	var s bandwidthSampler
	now := time.Unix(1, 0)
	for pn := uint64(1); pn <= 1000; pn++ {
		s.onSent(now, pn, mss, int(pn-1)*mss)
	}
	require.Len(t, s.ring, 1024)
	now = now.Add(100 * time.Millisecond)
	rs, p, ok := s.onAcked(now, 1000)
	require.True(t, ok)
	require.Equal(t, uint64(1000), p.pn)
	require.Equal(t, 100*time.Millisecond, rs.rtt)
	_, _, ok = s.onAcked(now, 1000)
	require.False(t, ok, "acked twice")
	s.onLost(999, mss)
	_, _, ok = s.onAcked(now, 999)
	require.False(t, ok, "lost packets are forgotten")
	_, _, ok = s.onAcked(now, 5000)
	require.False(t, ok, "never sent")
}
