package skiff

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
)

func TestTransferOverNetem(t *testing.T) {
	base := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 256 << 10}
	with := func(f func(p *netem.Profile)) netem.Profile { p := base; f(&p); return p }
	ge, err := netem.GilbertElliottFromLoss(0.05, 4)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    netem.Profile
		r    Recovery
	}{
		{"clean", base, RecoveryRTO},
		{"loss_1pct", with(func(p *netem.Profile) { p.Loss = 0.01 }), RecoveryRTO},
		{"loss_5pct", with(func(p *netem.Profile) { p.Loss = 0.05 }), RecoveryRTO},
		{"loss_10pct", with(func(p *netem.Profile) { p.Loss = 0.10 }), RecoveryRTO},
		{"loss_30pct", with(func(p *netem.Profile) { p.Loss = 0.30 }), RecoveryRTO},
		{"bursty_loss", with(func(p *netem.Profile) { p.Burst = &ge }), RecoveryRTO},
		{"jitter_reorder", with(func(p *netem.Profile) { p.Jitter = 5 * time.Millisecond; p.AllowReorder = true }), RecoveryRTO},
		{"duplication", with(func(p *netem.Profile) { p.Duplicate = 0.05 }), RecoveryRTO},
		{"corruption", with(func(p *netem.Profile) { p.Corrupt = 0.05 }), RecoveryRTO},
		{"nack_loss_10pct", with(func(p *netem.Profile) { p.Loss = 0.10 }), RecoveryNACK},
		{"nack_loss_30pct", with(func(p *netem.Profile) { p.Loss = 0.30 }), RecoveryNACK},
		{"nack_bursty_loss", with(func(p *netem.Profile) { p.Burst = &ge }), RecoveryNACK},
		{"nack_jitter_reorder", with(func(p *netem.Profile) { p.Jitter = 5 * time.Millisecond; p.AllowReorder = true }), RecoveryNACK},
		{"fec_loss_5pct", with(func(p *netem.Profile) { p.Loss = 0.05 }), RecoveryFEC},
		{"nack_duplication_corruption", with(func(p *netem.Profile) { p.Duplicate = 0.05; p.Corrupt = 0.05 }), RecoveryNACK},
	}
	// 16 MiB per profile (about 50 s for the table under -race, too much
	// for CI's budget), so under -race each profile moves 4 MiB, and
	// -short 1 MiB.
	size := 16 << 20
	switch {
	case testing.Short():
		size = 1 << 20
	case raceEnabled:
		size = 4 << 20
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := &Config{Recovery: tc.r}
				e := newNetemEnv(t, 1, tc.p, tc.p, cfg, cfg)
				start := time.Now()
				data := randomData(size, 2)
				got := sendAll(t, e.c, e.s, data)
				el := time.Since(start)
				requireSameData(t, data, got)
				st := e.c.Stats()
				t.Logf("%s: %.0f MiB in %v (fake) = %.1f Mbit/s; sent %d pkts, retx %d, lost %d, rto %d; receiver dup %d badsum %d",
					tc.name, float64(size)/(1<<20), el, float64(size)*8/el.Seconds()/1e6, st.PacketsSent, st.PacketsRetransmitted,
					st.PacketsLost, st.RetransmissionTimeouts, e.s.Stats().DuplicatesReceived, e.s.Stats().BadChecksum)
				e.close(t)
			})
		})
	}
}
