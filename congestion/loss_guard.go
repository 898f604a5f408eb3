package congestion

import "time"

// Loss-guard parameters. BBR v1 ignores loss, which in a shallow buffer lets
// it keep the queue full and overflowing: flows that are all cwnd-limited
// then freeze at whatever split they had (a newcomer stays starved), and
// loss-based flows beside it are squeezed. The guard reacts only when the
// round's loss is heavy AND the RTT shows a standing queue, so random loss
// on an uncongested path never triggers it.
//
// The queue signal is the smallest RTT sample of the last two rounds
// against the windowed min RTT, with a margin of the larger of 25% of the
// min RTT and 2 × the RTT mean deviation: a standing queue delays every
// packet, so it raises even the minimum of two rounds, while delay jitter
// (±5 ms each way on a 20 ms path) only spreads the samples, and the
// deviation margin keeps a small window (few samples per round, so a
// minimum far from the floor) from reading jitter as a queue and cutting
// itself smaller still. A smoothed RTT would sit above 1.25 × min RTT
// under such jitter alone and turn every bursty-loss round into a cut
// (bench P4: 2–5 instead of 40+ Mbit/s). While it acts, BBR's inflight
// follows AIMD (×0.7 per lossy round, +1 segment per calm round), which is
// what makes competing flows converge; the cap lifts once it no longer
// binds.
//
// The same queue test, over the last 16 RTT samples instead of two rounds
// (the round in which STARTUP overflows the queue began with it empty),
// gates STARTUP's loss exit (checkStartupLoss) and the recovery window
// (bbr_recovery.go), so 5–10% random loss without a queue neither ends
// STARTUP nor slows it. Flowsim on the bench link (50 Mbit/s, 20 ms,
// 62.5 kB queue), first 3 s: queue drops 437/369/441 → 135/140/121 at
// 0/5/10% loss, goodput 48.7/46.4/44.3 → 48.7/46.4/44.2 Mbit/s. Two flows
// (10 Mbit/s, 40 ms, 1-BDP queue), skiff sessions, second flow at
// 5.0..6.9 s, Jain over 30–60 s: BBR+BBR mean 0.992 → 0.986, NewReno's
// share beside BBR 27% → 30%.
const (
	guardHighLoss    = 0.02 // round loss rate that counts as heavy
	guardQueueFactor = 1.25 // round's min RTT above this × min RTT means a standing queue
	guardMinPackets  = 8    // rounds with fewer packets are not judged
	guardBeta        = 0.7  // cap multiplier per heavy-loss round
	guardFreeGrowth  = 16   // a round without a standing queue raises the cap by 1/16

	// STARTUP ends early when its round so far lost more than
	// guardHighLoss of its packets in at least guardStartupLosses losses
	// while the last guardRecentRTTs RTT samples all show a queue.
	guardStartupLosses = 8
	guardRecentRTTs    = 16
)

// lossGuard counts one round's delivered and lost bytes and holds the
// inflight cap (0: none). The zero value is ready to use.
type lossGuard struct {
	delivered int64
	lost      int64
	roundMin  time.Duration                  // smallest RTT sample of the round (0: none)
	prevMin   time.Duration                  // the previous round's (0: none)
	varMax    time.Duration                  // largest RTT deviation of the round
	prevVar   time.Duration                  // the previous round's
	losses    int                            // packets lost in the round
	recent    [guardRecentRTTs]time.Duration // the last RTT samples, a ring
	nRecent   int                            // samples taken, saturating at len(recent)
	cap       int
	lossRate  float64 // of the last judged round, for tests
}

func (g *lossGuard) onAcked(bytes int) { g.delivered += int64(bytes) }
func (g *lossGuard) onLost(bytes int)  { g.lost += int64(bytes); g.losses++ }

// onRTT records one RTT sample of the current round.
func (g *lossGuard) onRTT(rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	if g.roundMin == 0 || rtt < g.roundMin {
		g.roundMin = rtt
	}
	g.recent[g.nRecent%guardRecentRTTs] = rtt
	g.nRecent++
	if g.nRecent == 2*guardRecentRTTs {
		g.nRecent = guardRecentRTTs
	}
}

// recentMin returns the smallest of the last guardRecentRTTs RTT samples,
// or 0 before there are that many.
func (g *lossGuard) recentMin() time.Duration {
	if g.nRecent < guardRecentRTTs {
		return 0
	}
	m := g.recent[0]
	for _, r := range g.recent[1:] {
		m = min(m, r)
	}
	return m
}

// checkLossGuard judges the round that just ended: heavy loss with a
// standing queue cuts the inflight cap to 0.7 × cwnd (and ends STARTUP);
// rounds with little loss raise it by one segment, rounds without a
// standing queue (loss there is not congestive) by max(1 segment, 1/16 of
// it), until it no longer binds. The faster regrowth undoes a cut that
// jitter or a short overshoot caused within ~10 rounds instead of ~50;
// bench P4: 36 → 41–43 Mbit/s, at some cost to BBR+NewReno fairness
// (session Jain 0.92 → 0.86).
func (b *BBR) checkLossGuard() {
	g := &b.guard
	total := g.delivered + g.lost
	defer func() {
		g.delivered, g.lost, g.losses, g.prevMin, g.roundMin = 0, 0, 0, g.roundMin, 0
		g.prevVar, g.varMax = g.varMax, 0
	}()
	if total == 0 {
		return
	}
	g.lossRate = float64(g.lost) / float64(total)
	queued := b.standingQueue()
	switch {
	case g.lossRate > guardHighLoss && queued && total >= int64(guardMinPackets*b.mss):
		g.cap = max(int(float64(b.cwnd)*guardBeta), b.minPipe)
		if b.mode == bbrStartup {
			b.filledPipe = true
		}
	case g.cap > 0 && (!queued || g.lossRate <= guardHighLoss/2):
		if queued {
			g.cap += b.mss
		} else {
			g.cap += max(b.mss, g.cap/guardFreeGrowth)
		}
		if g.cap >= b.targetInflight(b.cwndGain) {
			g.cap = 0
		}
	}
}

// standingQueue reports whether the smallest RTT of the last two rounds
// lies above the min RTT by more than the queue margin, taken with the
// largest RTT deviation of those rounds: the smoothed deviation (β = 1/4)
// swings between 0.7 and 4.8 ms under ±5 ms jitter each way (bench P4,
// real time), and a margin taken at a low swing read jitter as a queue.
func (b *BBR) standingQueue() bool {
	return b.queuedBeyond(b.guard.twoRoundMin(), max(b.guard.varMax, b.guard.prevVar))
}

// twoRoundMin returns the smallest RTT sample of this round and the
// previous one (0: none).
func (g *lossGuard) twoRoundMin() time.Duration {
	recent := g.roundMin
	if g.prevMin > 0 && (recent == 0 || g.prevMin < recent) {
		recent = g.prevMin
	}
	return recent
}

// queued reports whether rtt lies above the min RTT by more than max(25%
// of it, 2 × RTT deviation); false if either is unknown.
func (b *BBR) queued(rtt time.Duration) bool { return b.queuedBeyond(rtt, 0) }

// queuedBeyond is queued with the RTT deviation taken as at least dev.
func (b *BBR) queuedBeyond(rtt, dev time.Duration) bool {
	if b.minRTT == 0 || rtt == 0 {
		return false
	}
	margin := max(time.Duration((guardQueueFactor-1)*float64(b.minRTT)), 2*max(b.rttVar, dev))
	return rtt > b.minRTT+margin
}

// checkStartupLoss ends STARTUP at a loss once the round so far lost more
// than guardHighLoss of its packets, in at least guardStartupLosses
// losses, while even the smallest of the last guardRecentRTTs RTT samples
// shows a queue (BBRv2's "startup high loss" exit, with the queue test
// added so that random loss does not end it). Waiting for the round's end
// (checkLossGuard) or for the bandwidth to stop growing lets STARTUP's
// gain of 2.89 overflow a shallow queue for several more rounds.
func (b *BBR) checkStartupLoss(now time.Time) {
	g := &b.guard
	if b.mode != bbrStartup || b.filledPipe || g.losses < guardStartupLosses {
		return
	}
	if float64(g.lost) <= guardHighLoss*float64(g.delivered+g.lost) || !b.queued(g.recentMin()) {
		return
	}
	b.filledPipe = true
	b.checkDrain(now)
	b.setPacingRate()
}
