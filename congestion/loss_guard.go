package congestion

// Loss-guard thresholds: BBR v1 ignores loss, which lets it keep a shallow
// buffer overflowing (e.g. beside loss-based flows, or in STARTUP into a
// small queue). The guard acts only when both signals agree.
const (
	guardHighLoss    = 0.15 // round loss rate that counts as heavy
	guardLowLoss     = 0.05 // below this the cap is relaxed
	guardQueueFactor = 1.25 // srtt above this × min RTT means a standing queue
	guardMinPackets  = 10   // rounds with fewer packets are not judged
	guardShrink      = 0.85 // cap multiplier per further heavy-loss round
	guardGrowNumer   = 5    // cap × 5/4 per calm round
	guardGrowDenom   = 4
)

// lossGuard counts one round's delivered and lost bytes and holds the
// inflight cap (0: none). The zero value is ready to use.
type lossGuard struct {
	delivered int64
	lost      int64
	cap       int
	lossRate  float64 // of the last judged round, for tests
}

func (g *lossGuard) onAcked(bytes int) { g.delivered += int64(bytes) }
func (g *lossGuard) onLost(bytes int)  { g.lost += int64(bytes) }

// checkLossGuard judges the round that just ended: heavy loss with a
// standing queue caps inflight at one BDP (then × 0.85 per further such
// round) and ends STARTUP; calm rounds relax the cap by 25% until it no
// longer binds.
func (b *BBR) checkLossGuard() {
	g := &b.guard
	total := g.delivered + g.lost
	defer func() { g.delivered, g.lost = 0, 0 }()
	if total < int64(guardMinPackets*b.mss) {
		return
	}
	g.lossRate = float64(g.lost) / float64(total)
	queued := b.minRTT > 0 && float64(b.srtt) > guardQueueFactor*float64(b.minRTT)
	switch {
	case g.lossRate > guardHighLoss && queued:
		if g.cap == 0 {
			g.cap = max(b.bdp(1), b.minPipe)
		} else {
			g.cap = max(int(float64(g.cap)*guardShrink), b.minPipe)
		}
		if b.mode == bbrStartup {
			b.filledPipe = true
		}
	case g.cap > 0 && g.lossRate < guardLowLoss:
		g.cap = g.cap * guardGrowNumer / guardGrowDenom
		if g.cap >= b.targetInflight(b.cwndGain) {
			g.cap = 0
		}
	}
}
