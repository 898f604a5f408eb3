package skiff

// Tests of the session defaults the recovery strategies get: adaptive FEC
// overhead, the "none" controller's window, sparse-message latency.

import (
	"testing"
	"testing/synctest"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// TestFECDefaultIsAdaptive: the zero fec.StrategyConfig (adaptive
// RS(10, 1..4)) moves 2 MiB at 1% random loss with at most 1.30 wire bytes
// per payload byte, still rebuilding most losses without a retransmission;
// a fixed RS(10,3) pays more than 1.35 on the same run.
func TestFECDefaultIsAdaptive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     fec.StrategyConfig
		min, max float64 // bounds of wire/payload
	}{
		{"default_adaptive", fec.StrategyConfig{}, 1.0, 1.30},
		{"fixed_rs_10_3", fec.StrategyConfig{Encoder: fec.EncoderConfig{K: 10, M: 3}}, 1.35, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newFECEnv(t, 0.01, 7, tc.opts, 50e6)
				data := randomData(2<<20, 3)
				got := sendAll(t, e.c, e.s, data)
				requireSameData(t, data, got)
				_, dropped := e.drop.counts(rudp.TypeData)
				cs, ss := e.c.Stats(), e.s.Stats()
				wire := float64(cs.BytesSent) / float64(len(data))
				t.Logf("%s: wire/payload %.3f, data dropped %d, rebuilt by FEC %d, retransmitted %d",
					tc.name, wire, dropped, ss.RecoveredByFEC, cs.PacketsRetransmitted)
				e.close(t)
				require.Positive(t, dropped)
				require.GreaterOrEqual(t, float64(ss.RecoveredByFEC), 0.6*float64(dropped))
				require.GreaterOrEqual(t, wire, tc.min)
				require.LessOrEqual(t, wire, tc.max)
			})
		})
	}
}

// TestFixedWindowIsFlowControlWindow: "none"/"fixed" get the receive
// window (in packets, at most 1000) as their fixed window; real
// controllers keep their default initial window.
func TestFixedWindowIsFlowControlWindow(t *testing.T) {
	for _, tc := range []struct {
		cc   string
		rwnd int
		want int
	}{
		{"none", 1747, 1000},
		{"fixed", 55, 55},
		{"NONE", 4, 10},
		{"bbr", 1747, 0},
		{"", 1747, 0},
	} {
		require.Equal(t, tc.want, initialWindowPackets(tc.cc, tc.rwnd), "%s %d", tc.cc, tc.rwnd)
	}
	cfg, err := (&Config{Congestion: "none", ReceiveBufferSize: 64 << 10}).withDefaults()
	require.NoError(t, err)
	rwnd := cfg.ReceiveBufferSize / cfg.maxPayload(0)
	cc, err := congestion.New("none", congestion.Config{MaxDatagramSize: cfg.MTU, InitialWindowPackets: initialWindowPackets("none", rwnd)})
	require.NoError(t, err)
	require.Equal(t, rwnd*cfg.MTU, cc.CongestionWindow())
}
