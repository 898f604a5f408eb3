package congestion

// Loss-guard parameters. BBR v1 ignores loss, which in a shallow buffer lets
// it keep the queue full and overflowing: flows that are all cwnd-limited
// then freeze at whatever split they had (a newcomer stays starved), and
// loss-based flows beside it are squeezed. The guard reacts only when the
// round's loss is heavy AND the RTT shows a standing queue, so random loss
// on an uncongested path never triggers it. While it acts, BBR's inflight
// follows AIMD (×0.7 per lossy round, +1 segment per calm round), which is
// what makes competing flows converge; the cap lifts once it no longer
// binds.
const (
	guardHighLoss    = 0.02 // round loss rate that counts as heavy
	guardQueueFactor = 1.25 // srtt above this × min RTT means a standing queue
	guardMinPackets  = 8    // rounds with fewer packets are not judged
	guardBeta        = 0.7  // cap multiplier per heavy-loss round
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
// standing queue cuts the inflight cap to 0.7 × cwnd (and ends STARTUP);
// rounds with little loss or no standing queue (loss there is not
// congestive) raise it by one segment until it no longer binds.
func (b *BBR) checkLossGuard() {
	g := &b.guard
	total := g.delivered + g.lost
	defer func() { g.delivered, g.lost = 0, 0 }()
	if total == 0 {
		return
	}
	g.lossRate = float64(g.lost) / float64(total)
	queued := b.minRTT > 0 && float64(b.srtt) > guardQueueFactor*float64(b.minRTT)
	switch {
	case g.lossRate > guardHighLoss && queued && total >= int64(guardMinPackets*b.mss):
		g.cap = max(int(float64(b.cwnd)*guardBeta), b.minPipe)
		if b.mode == bbrStartup {
			b.filledPipe = true
		}
	case g.cap > 0 && (!queued || g.lossRate <= guardHighLoss/2):
		g.cap += b.mss
		if g.cap >= b.targetInflight(b.cwndGain) {
			g.cap = 0
		}
	}
}
