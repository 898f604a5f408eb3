package skiff

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// TestPathMTUDiscovery moves 1 MiB over emulated links with and without an
// MTU limit and checks the size each side settled on, that lost probes
// cost no congestion event or retransmission, and that the data arrived
// intact.
func TestPathMTUDiscovery(t *testing.T) {
	base := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 256 << 10}
	withMTU := func(m int) netem.Profile { p := base; p.MTU = m; return p }
	tests := []struct {
		name           string
		link           netem.Profile
		client, server Config
		// The MTU both sides must end at (lo..hi inclusive).
		lo, hi int
		// Probes that must be lost (at least), at most.
		minLost, maxLost uint64
	}{
		{name: "unlimited", link: base, lo: DefaultMaxDatagramSize, hi: DefaultMaxDatagramSize},
		// 1300 rules out 1452 (three lost probes), then the search finds
		// 1300 within the search step.
		{name: "link_mtu_1300", link: withMTU(1300), lo: 1300 - pmtuSearchStep + 1, hi: 1300, minLost: 3, maxLost: 12},
		// The link carries only the base size: every probe is lost and
		// the session stays at MTU.
		{name: "link_mtu_1200", link: withMTU(1200), lo: DefaultMTU, hi: DefaultMTU, minLost: 3, maxLost: 3 * 5},
		{name: "disabled", link: base, client: Config{DisablePathMTUDiscovery: true},
			server: Config{DisablePathMTUDiscovery: true}, lo: DefaultMTU, hi: DefaultMTU},
		// The smaller side's largest datagram bounds the search.
		{name: "peer_limit_1350", link: base, server: Config{MaxDatagramSize: 1350}, lo: 1350, hi: 1350},
		{name: "larger_base", link: base, client: Config{MTU: 1400}, server: Config{MTU: 1400}, lo: 1452, hi: 1452},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newNetemEnv(t, 3, tc.link, tc.link, &tc.client, &tc.server)
				// Half the data goes while the search runs, the rest once
				// it has ended (a few RTOs of lost probes at most).
				data := randomData(1<<20, 4)
				_, err := e.c.Write(data[:len(data)/2])
				require.NoError(t, err)
				time.Sleep(5 * time.Second)
				got := sendAll(t, e.c, e.s, data[len(data)/2:])
				requireSameData(t, data, got)
				cs, ss := e.c.Stats(), e.s.Stats()
				e.close(t)
				for side, st := range map[string]Stats{"client": cs, "server": ss} {
					t.Logf("%s: MTU %d, probes sent %d lost %d; lost packets %d, retransmitted %d, RTOs %d",
						side, st.MTU, st.MTUProbesSent, st.MTUProbesLost, st.PacketsLost, st.PacketsRetransmitted, st.RetransmissionTimeouts)
					require.GreaterOrEqual(t, st.MTU, tc.lo, side)
					require.LessOrEqual(t, st.MTU, tc.hi, side)
					require.GreaterOrEqual(t, st.MTUProbesLost, tc.minLost, side)
					require.LessOrEqual(t, st.MTUProbesLost, tc.maxLost, side)
					if tc.client.DisablePathMTUDiscovery {
						require.Zero(t, st.MTUProbesSent, side)
					}
				}
				// Lost probes are not losses: the clean links lose nothing.
				require.Zero(t, cs.PacketsLost, "client losses")
				require.Zero(t, cs.PacketsRetransmitted, "client retransmissions")
				require.Zero(t, cs.RetransmissionTimeouts, "client RTOs")
			})
		})
	}
}

// TestMaxDatagramSizeValidation checks the new Config field's bounds.
func TestMaxDatagramSizeValidation(t *testing.T) {
	c, err := (&Config{}).withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultMaxDatagramSize, c.MaxDatagramSize)
	require.Equal(t, DefaultMaxDatagramSize, c.maxDatagram())

	c, err = (&Config{MTU: 1500}).withDefaults()
	require.NoError(t, err)
	require.Equal(t, 1500, c.maxDatagram(), "an MTU above the default ceiling is the ceiling")

	c, err = (&Config{DisablePathMTUDiscovery: true}).withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultMTU, c.maxDatagram())

	_, err = (&Config{MTU: 1400, MaxDatagramSize: 1300}).withDefaults()
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "MaxDatagramSize 1300")
	_, err = (&Config{MaxDatagramSize: MaxMTU + 1}).withDefaults()
	require.ErrorIs(t, err, ErrInvalidConfig)
}
