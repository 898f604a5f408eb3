package skiff

// Loss that FEC repaired is not a congestion signal by default; with
// Config.FECRepairIsCongestion it is. NewReno shows the difference most:
// on a randomly lossy, uncongested link it keeps its window while FEC hides
// the loss, and collapses towards the Mathis bound when every repaired
// packet counts as a loss. Link: 50 Mbit/s, 10 ms each way, 2% random loss
// on the data direction, default FEC (adaptive RS), fixed seeds. 4 MiB:
// off 5.8 Mbit/s, 16 window reductions (lost repair packets and unrepaired
// data still count); on 3.5 Mbit/s, 42 repaired holes reported, 35
// reductions. Under -race/-short (2 MiB): 11 vs 20 reductions.
//
//	go test -run TestFECRepairIsCongestion -v .

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

func TestFECRepairIsCongestion(t *testing.T) {
	size := 4 << 20
	if testing.Short() || raceEnabled {
		size = 2 << 20
	}
	run := func(t *testing.T, signal bool) (mbps float64, st Stats, reductions int) {
		synctest.Test(t, func(t *testing.T) {
			up := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 256 << 10, Loss: 0.02}
			down := netem.Profile{Delay: 10 * time.Millisecond}
			ssthresh := 0
			trace := func(ev congestion.Event) {
				if ev.SSThresh < ssthresh || ssthresh == 0 && ev.SSThresh < 1<<30 {
					reductions++ // a window reduction lowers ssthresh
				}
				ssthresh = ev.SSThresh
			}
			cfg := &Config{Recovery: RecoveryFEC, Congestion: "reno", FECRepairIsCongestion: signal}
			scfg := *cfg
			cfg.CongestionTracer = trace
			e := newNetemEnv(t, 61, up, down, cfg, &scfg)
			data := randomData(size, 3)
			start := time.Now()
			got := sendAll(t, e.c, e.s, data)
			el := time.Since(start)
			requireSameData(t, data, got)
			mbps = float64(size) * 8 / el.Seconds() / 1e6
			st = e.c.Stats()
			rebuilt := e.s.Stats().RecoveredByFEC
			t.Logf("FECRepairIsCongestion=%v: %.1f Mbit/s, rebuilt by FEC %d, repair congestion events %d, window reductions %d, lost %d, retx %d",
				signal, mbps, rebuilt, st.RepairCongestionEvents, reductions, st.PacketsLost, st.PacketsRetransmitted)
			require.NotZero(t, rebuilt, "FEC rebuilt packets")
			e.close(t)
		})
		return mbps, st, reductions
	}
	var offSt, onSt Stats
	var offCuts, onCuts int
	t.Run("off", func(t *testing.T) { _, offSt, offCuts = run(t, false) })
	t.Run("on", func(t *testing.T) { _, onSt, onCuts = run(t, true) })
	require.Zero(t, offSt.RepairCongestionEvents, "by default repaired loss is no signal")
	require.NotZero(t, onSt.RepairCongestionEvents, "with the option every filled hole is a loss event")
	// Lost repair packets and unrepaired data are congestion signals in
	// both runs; the option adds the repaired ones.
	require.Greater(t, onCuts, offCuts*3/2, "NewReno cuts its window more often only with the option")
}
