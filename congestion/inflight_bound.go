package congestion

import "time"

// BBR's upper inflight bound, BBRv2's inflight_hi
// (draft-cardwell-iccrg-bbr-congestion-control-02 §4.6.4 "probing for
// inflight", Linux tcp_bbr2.c bbr_inflight_hi_from_lost_skb and
// bbr_handle_inflight_too_high), with skiff's queue test in front of it.
//
// v1's cwnd (2 × BDP) lies above what a shallow buffer holds (pipe + queue:
// 1.5 BDP on the bench link), so nothing but the pacing rate keeps the
// queue from overflowing, and a bandwidth estimate a few percent high
// (real-time delivery-rate samples whose ack interval scheduling compressed
// by ~0.5 ms, kept by the max filter: 51.3–51.8 Mbit/s on a 50 Mbit/s
// link) lets the standing queue creep until it overflows, every ~0.35 s on
// the bench link. The bound remembers where loss began instead:
//
//   - "too high": when a packet sent in PROBE_BW's 1.25 phase is declared
//     lost, the bytes lost since it left (itself included) exceed 2% of
//     the bytes that were in flight once it left, in at least
//     boundMinLosses packets, and even the smallest RTT of the last two
//     rounds shows a standing queue (the loss guard's test, its margin
//     taken with the largest RTT deviation of those rounds). inflight_hi is
//     then set to the flight at which the loss rate would have reached 2%
//     (v2's formula), at most once per round. Random loss without a queue
//     never sets or lowers it: 5–10% random loss is not congestion.
//     Like v2, only probing learns the bound. A creeping queue overflows in
//     the 1.25 phase first, which adds a quarter BDP on top of it; losses
//     sent while cruising are those of a queue shared with other flows,
//     and a bound set from them froze two BBR flows at whatever split they
//     had (flowsim, 10 Mbit/s, 1-BDP queue, 8 seeds: Jain 0.994 without
//     the bound, 0.931 with cruise verdicts, 0.984 without). STARTUP and
//     DRAIN set no bound either: their queue is their own and their
//     estimates immature, so a verdict there (random or bursty loss while
//     STARTUP's queue stood, delay jitter) put the bound below the pipe
//     (bench P4: 42.6 → 37.0 Mbit/s);
//   - the window is capped at inflight_hi in PROBE_BW's 1.25 phase and at
//     (1 − 15%) × inflight_hi in its other phases (v2's cruise headroom),
//     so a pacing rate a little above the link fills the queue to that
//     level and no further; never below one BDP + 3 segments, where the
//     link would idle;
//   - re-probing is slow, as v2's: the first boundQuietProbes 1.25 phases
//     after a verdict stay under the cruise cap; later a 1.25 phase whose
//     flight reached inflight_hi without a verdict raises it by 1 segment,
//     the next by 2, 4, ... (at most a quarter of it); a verdict restarts
//     the growth at 1 segment. Each probe that finds the overflow point
//     again costs a few drops, once per ~40 rounds;
//   - a bound that holds the flight where the smoothed RTT shows no queue
//     (within an eighth of the min RTT) is below the pipe — the path got
//     faster, as bench P5 after its 5 s at 10 Mbit/s — and grows by 1/16
//     per round, like the loss guard's cap.
//
// The loss guard (loss_guard.go) stays as it was: its AIMD cap acts on the
// model's cwnd and is what makes competing flows converge; the bound acts
// on the window in force and stops a single flow's queue from creeping.
// Flowsim, bench link with ±1 ms of ack delay noise, queue drops 0.5–4 s:
// 175 → 20; bench real time, 8 MiB: 200–300 → 60–100.

// Bound parameters.
const (
	boundLossThresh  = 0.02  // BBRLossThresh: loss rate of a flight that is too high
	boundHeadroom    = 0.15  // BBRHeadroom: cruise keeps the window this far below inflight_hi
	boundMinLosses   = 3     // lost packets since the judged one left, before it can be too high
	boundMaxGrowth   = 4     // a probe raises inflight_hi by at most 1/boundMaxGrowth of it
	boundQuietProbes = 4     // 1.25 phases after a too-high verdict that stay under the cruise bound
	boundNoQueue     = 0.125 // smoothed RTT within this share of the min RTT: no queue
)

// inflightBound is BBRv2's inflight_hi and its probing state. The zero
// value is "no bound learned".
type inflightBound struct {
	hi       int    // bytes; 0: not learned
	growth   int    // bytes the next successful probe adds
	round    uint64 // round of the last too-high verdict
	lowered  bool   // a too-high verdict since the current 1.25 phase began
	probeHit bool   // the current 1.25 phase's flight reached the bound
	quiet    int    // 1.25 phases left that do not probe inflight_hi
	probing  bool   // the current 1.25 phase may fill up to inflight_hi
	hitRound bool   // the flight reached the bound in force this round
}

// onBoundLoss judges the loss of packet p, sent with p.txInflight bytes in
// flight, after lostSince bytes were declared lost since it left (itself
// included); only losses of packets sent in a 1.25 phase count.
func (b *BBR) onBoundLoss(p sentPacket, lostSince int64) {
	x := &b.bound
	if b.mode != bbrProbeBW || !p.probing || p.txInflight <= 0 || lostSince < int64(boundMinLosses*p.bytes) || !b.standingQueue() {
		return
	}
	if float64(lostSince) <= boundLossThresh*float64(p.txInflight) {
		return
	}
	if x.hi > 0 && x.round == b.roundCount {
		return // once per round: the rest of this burst says nothing new
	}
	x.hi = max(inflightHiFromLoss(p.txInflight, p.bytes, lostSince), b.minPipe)
	x.round, x.lowered, x.growth, x.quiet = b.roundCount, true, b.mss, boundQuietProbes
}

// inflightHiFromLoss returns the flight at which the loss rate would have
// crossed boundLossThresh if all the loss past it came from the packet of
// size bytes judged last (tcp_bbr2.c bbr_inflight_hi_from_lost_skb): with
// inflightPrev = txInflight − size and lostPrev = lostSince − size, the
// flight is inflightPrev + (thresh × inflightPrev − lostPrev) / (1 −
// thresh).
func inflightHiFromLoss(txInflight, size int, lostSince int64) int {
	inflightPrev := float64(txInflight - size)
	lostPrev := float64(lostSince - int64(size))
	return int(inflightPrev + (boundLossThresh*inflightPrev-lostPrev)/(1-boundLossThresh))
}

// inflightLimit returns the bound on the window in force (0: none).
func (b *BBR) inflightLimit() int {
	hi := b.bound.hi
	if hi == 0 || b.mode == bbrStartup || b.mode == bbrDrain {
		return 0
	}
	if b.cruising() {
		hi = int((1 - boundHeadroom) * float64(hi))
	}
	return max(hi, b.targetInflight(1))
}

// cruising reports whether BBR is in a PROBE_BW phase that does not probe
// inflight_hi.
func (b *BBR) cruising() bool {
	return b.mode == bbrProbeBW && (b.pacingGain <= 1 || !b.bound.probing)
}

// onBoundAck notes, for an ack with priorInFlight bytes in flight before
// it, whether the flight reached the bound in force; at a round's start it
// raises a bound that the flight reached in the round just ended while the
// RTT showed no queue (noQueue) by 1/16, like the loss guard's cap: such a
// bound holds the flight below the pipe and stops no queue.
func (b *BBR) onBoundAck(priorInFlight int) {
	x := &b.bound
	if b.roundStart {
		if x.hi > 0 && x.hitRound && b.noQueue() {
			x.hi += max(x.hi/guardFreeGrowth, b.mss)
		}
		x.hitRound = false
	}
	x.hitRound = x.hitRound || b.boundReached(priorInFlight)
}

// noQueue reports whether the smoothed RTT lies within boundNoQueue of the
// min RTT: the flight does not even build a queue (a bound that holds a
// single flow's standing queue at 15% below the overflow point keeps its
// smoothed RTT a few ms up; the smallest RTT of two rounds is no help here,
// PROBE_BW's 0.75 phase empties the queue once per cycle).
func (b *BBR) noQueue() bool {
	return b.minRTT > 0 && b.srtt > 0 && b.srtt <= b.minRTT+time.Duration(boundNoQueue*float64(b.minRTT))
}

// boundReached reports whether the flight reached the bound in force.
func (b *BBR) boundReached(priorInFlight int) bool {
	lim := b.inflightLimit()
	return lim > 0 && priorInFlight+b.mss > lim
}

// startBoundProbe runs when a 1.25 phase begins: it probes inflight_hi
// unless a too-high verdict came less than boundQuietProbes phases ago
// (then it probes the rate under the cruise cap).
func (b *BBR) startBoundProbe() {
	x := &b.bound
	x.probeHit, x.lowered = false, false
	x.probing = x.quiet == 0
	x.quiet = max(x.quiet-1, 0)
}

// endBoundProbe runs when a 1.25 phase ends: if its flight reached
// inflight_hi without a too-high verdict, inflight_hi grows and the next
// growth doubles.
func (b *BBR) endBoundProbe() {
	x := &b.bound
	if x.hi > 0 && x.probing && x.probeHit && !x.lowered {
		x.growth = max(x.growth, b.mss)
		x.hi += min(x.growth, max(x.hi/boundMaxGrowth, b.mss))
		x.growth *= 2
	}
}
