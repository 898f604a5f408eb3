package congestion

import (
	"math/rand/v2"
	"time"
)

// BBR v1 parameters (draft-cardwell-iccrg-bbr-congestion-control-00, Linux
// tcp_bbr.c).
const (
	bbrHighGain         = 2.885 // 2/ln 2: STARTUP pacing gain
	bbrDrainGain        = 1 / bbrHighGain
	bbrCwndGain         = 2.0 // cwnd gain in every state but PROBE_RTT (v1 used 2.885 in STARTUP and DRAIN)
	bbrBtlBwRounds      = 10  // BtlBw filter window, round trips
	bbrMinRTTWindow     = 10 * time.Second
	bbrProbeRTTDuration = 200 * time.Millisecond
	bbrMinPipePackets   = 4 // cwnd in PROBE_RTT and the floor elsewhere
	bbrFullBwGrowth     = 1.25
	bbrFullBwRounds     = 3
	bbrPacingMargin     = 0.99 // pace 1% below the estimate (Linux)
	bbrQuantumPackets   = 3    // cwnd allowance for send/ack quantisation
)

// bbrPacingGainCycle is the PROBE_BW gain cycle.
var bbrPacingGainCycle = [8]float64{1.25, 0.75, 1, 1, 1, 1, 1, 1}

// bbrMode is BBR's state.
type bbrMode uint8

const (
	bbrStartup bbrMode = iota
	bbrDrain
	bbrProbeBW
	bbrProbeRTT
)

var bbrModeNames = [...]string{"startup", "drain", "probe_bw", "probe_rtt"}

// BBR is the BBR v1 model: the bottleneck bandwidth is the windowed maximum
// of per-ack delivery-rate samples over 10 round trips, the propagation
// delay the minimum RTT over 10 s; it paces at gain × BtlBw and keeps
// cwnd = cwnd_gain × BDP (+3 segments). States: STARTUP (pacing gain
// 2/ln 2, cwnd gain 2 as in BBRv3: v1's 2.89 let the flight reach 2.89
// BDP before the first loss was detected) until the bandwidth grew less
// than 25% for 3 rounds, DRAIN (pacing gain ln 2/2) until the flight is at
// most one BDP, PROBE_BW (pacing gains 1.25, 0.75, 1×6, one min RTT each,
// cwnd gain 2), PROBE_RTT (cwnd 4 segments for 200 ms and a round) when the
// min RTT was not refreshed for 10 s.
//
// Random loss does not reduce the window, so it does not collapse BBR.
// Loss with a queue does (see bbr_recovery.go, loss_guard.go and
// inflight_bound.go):
//
//   - in STARTUP and DRAIN, a loss while the last 16 RTT samples all show a
//     queue starts v1's cwnd modulation in recovery: packet conservation
//     (cwnd = flight + acked) for a round, then growth by the acked bytes
//     minus the lost, until a round passes without loss or PROBE_BW begins;
//   - STARTUP ends at once when its round so far lost more than 2% of its
//     packets in 8 or more losses with that queue in the RTT (BBRv2's
//     "startup high loss" exit), not after three rounds without
//     bandwidth growth, each of which overflowed a shallow queue by up to
//     1.9 BDP;
//   - the loss guard: when a round loses more than 2% of its packets while
//     even its smallest RTT sample shows a standing queue, inflight is
//     capped at 0.7 × cwnd and reduced further while that persists;
//   - the inflight bound (BBRv2's inflight_hi): when more than 2% of the
//     flight of a packet sent in PROBE_BW's 1.25 phase was lost while a
//     standing queue shows, the flight at which loss began becomes an
//     upper bound; PROBE_BW cruises 15% below it and re-probes it slowly,
//     so a bandwidth estimate a few percent high (real-time rate samples)
//     no longer lets the queue creep until it overflows.
//
// On the bench link (50 Mbit/s, 20 ms RTT, a 62.5 kB queue = half a BDP)
// the first two cut STARTUP's queue overflow from ~437 to ~135 packets
// (flowsim and the session fake-time test alike), STARTUP's cwnd gain of 2
// to ~57. Wire bytes per payload byte of a clean 16 MiB transfer in fake
// time: 1.064 → 1.042 → 1.037. Bench, 8 MiB, real time on a loaded
// machine (IP and UDP headers and lost packets counted, 1200-byte
// datagrams): 1.12–1.13 → 1.087–1.102 (the overflow every ~0.35 s of a
// queue creeping in PROBE_BW; 200–300 queue drops) → 1.066–1.072 (55–100
// drops) with the bound; 1% random loss 1.089–1.098 → 1.074–1.084. A BBR
// joining a busy link leaves STARTUP after one round of overflow instead
// of three, and converges with the incumbent more slowly (Jain over
// 20–40 s, 20 start times: 0.988 → 0.962; over 30–60 s 0.992 → 0.986).
//
// After an RTO, cwnd drops to 4 segments, grows by the acked bytes, and the
// prior cwnd is restored once a packet sent after the RTO is acked.
//
// Use NewBBR; the zero value is not usable. Not safe for concurrent use.
type BBR struct {
	mss         int
	maxWindow   int
	initialCwnd int
	minPipe     int
	noPacing    bool

	sampler bandwidthSampler
	btlBw   maxFilter

	minRTT      time.Duration // 0: no sample yet
	minRTTStamp time.Time
	srtt        time.Duration // own smoothed RTT (α = 1/8), seeds the pacing rate
	rttVar      time.Duration // mean deviation of RTT samples (β = 1/4), for the loss guard
	latestRTT   time.Duration

	mode       bbrMode
	pacingGain float64
	cwndGain   float64
	cwnd       int
	priorCwnd  int
	pacingRate Bandwidth
	flight     int

	roundCount         uint64
	nextRoundDelivered int64
	roundStart         bool

	filledPipe  bool
	fullBw      Bandwidth
	fullBwCount int

	cycleIndex    int
	cycleStamp    time.Time
	lossThisCycle bool

	probeRTTDone      time.Time
	probeRTTRoundDone bool

	largestSent uint64
	recovery    bbrRecovery // loss recovery's window (bbr_recovery.go)
	rtoEnd      uint64      // largest sent at the last RTO
	rtoRecovery bool        // after an RTO, until a packet sent after it is acked

	guard lossGuard
	bound inflightBound // BBRv2's inflight_hi (inflight_bound.go)
	rng   uint64
	pacer Pacer
	trace tracePoint
}

var (
	_ Controller         = (*BBR)(nil)
	_ AppLimitedNotifier = (*BBR)(nil)
)

// AppLimitedNotifier is implemented by controllers that model delivery
// rate (BBR). An owner calls OnAppLimited, through a type assertion, when it
// had window and pacing budget to send but no data: samples taken until the
// current flight is delivered are then marked application-limited and do
// not lower the bandwidth estimate. Controllers that do not implement it
// detect application-limited periods themselves (NewReno, Cubic).
type AppLimitedNotifier interface {
	OnAppLimited(bytesInFlight int)
}

// OnAppLimited implements AppLimitedNotifier.
func (b *BBR) OnAppLimited(bytesInFlight int) { b.sampler.markAppLimited(bytesInFlight) }

// NewBBR returns a BBR controller in STARTUP with cwnd equal to the initial
// window. cfg should have passed Validate; out-of-range fields are replaced
// by defaults. cfg.RTT seeds the initial pacing rate if it has a sample.
// cfg.Seed seeds the PROBE_BW phase choice: the same non-zero Seed and the
// same events give the same behaviour; zero draws a seed from math/rand/v2
// (different for every controller, not reproducible).
func NewBBR(cfg Config) *BBR {
	c := cfg.withDefaults()
	b := &BBR{
		mss:         c.MaxDatagramSize,
		maxWindow:   c.MaxWindowBytes,
		initialCwnd: c.InitialWindowPackets * c.MaxDatagramSize,
		minPipe:     bbrMinPipePackets * c.MaxDatagramSize,
		noPacing:    c.DisablePacing,
		btlBw:       maxFilter{window: bbrBtlBwRounds},
	}
	b.rng = bbrRNGState(c.Seed)
	b.cwnd = b.initialCwnd
	b.enterStartup()
	if c.RTT != nil && c.RTT.SmoothedRTT() > 0 {
		b.pacingRate = rateFromWindow(b.cwnd, c.RTT.SmoothedRTT(), bbrHighGain)
	}
	b.pacer.init(c.MaxDatagramSize, c.PacingBurstPackets)
	b.trace.tracer = c.Tracer
	return b
}

// bbrRNGState is the xorshift state for seed: never zero (an odd multiplier
// times a value with the top bit set); seed 0 draws one from math/rand/v2.
func bbrRNGState(seed uint64) uint64 {
	for seed == 0 {
		seed = rand.Uint64()
	}
	return 0x9e3779b97f4a7c15 * (seed | 1<<63)
}

// OnPacketSent implements Controller.
func (b *BBR) OnPacketSent(now time.Time, pn uint64, bytes, bytesInFlight int) {
	b.largestSent = pn
	b.flight = bytesInFlight + bytes
	b.sampler.onSent(now, pn, bytes, bytesInFlight).probing = b.mode == bbrProbeBW && b.pacingGain > 1
	b.pacer.OnPacketSent(now, bytes, b.PacingRate())
}

// OnPacketAcked implements Controller: one delivery-rate sample per packet.
func (b *BBR) OnPacketAcked(now time.Time, pn uint64, bytes, priorInFlight int) {
	b.flight = max(priorInFlight-bytes, 0)
	rs, p, ok := b.sampler.onAcked(now, pn)
	if !ok {
		return
	}
	b.updateRound(p)
	b.updateBtlBw(rs)
	b.updateRTORecovery(pn)
	b.guard.onAcked(p.bytes)
	b.guard.onRTT(rs.rtt)
	b.onBoundAck(priorInFlight)
	if b.roundStart {
		b.checkLossGuard()
	}
	b.updateCyclePhase(now, priorInFlight)
	b.checkFullPipe(rs)
	b.checkDrain(now)
	b.updateMinRTT(now, rs.rtt)
	b.setPacingRate()
	b.setCwnd(bytes)
	b.onRecoveryAck(pn, bytes)
	b.emit(now)
}

// updateRound advances the round counter when a packet sent after the
// previous round began is acked.
func (b *BBR) updateRound(p sentPacket) {
	b.roundStart = false
	if p.delivered >= b.nextRoundDelivered {
		b.nextRoundDelivered = b.sampler.delivered
		b.roundCount++
		b.roundStart = true
	}
}

// updateBtlBw feeds the max filter (application-limited samples only if
// they raise it; samples over less than a min RTT are too noisy).
func (b *BBR) updateBtlBw(rs rateSample) {
	if rs.bw == 0 || (b.minRTT > 0 && rs.interval < b.minRTT) {
		return
	}
	if !rs.appLimited || rs.bw >= b.btlBw.get() {
		b.btlBw.update(rs.bw, b.roundCount)
	}
}

// updateRTORecovery ends RTO recovery once a packet sent after the RTO is
// acked, restoring the cwnd saved at the RTO.
func (b *BBR) updateRTORecovery(pn uint64) {
	if b.rtoRecovery && pn > b.rtoEnd {
		b.rtoRecovery = false
		b.cwnd = max(b.cwnd, b.priorCwnd)
	}
}

// bdp returns gain × BtlBw × minRTT in bytes, or the initial window before
// both are known.
func (b *BBR) bdp(gain float64) int {
	bw := b.btlBw.get()
	if bw == 0 || b.minRTT == 0 {
		return b.initialCwnd
	}
	return int(gain * float64(bw.Bytes(b.minRTT)))
}

// targetInflight is the cwnd target for gain.
func (b *BBR) targetInflight(gain float64) int {
	if b.btlBw.get() == 0 || b.minRTT == 0 {
		return int(gain * float64(b.initialCwnd))
	}
	return b.bdp(gain) + bbrQuantumPackets*b.mss
}

func (b *BBR) enterStartup() {
	b.mode, b.pacingGain, b.cwndGain = bbrStartup, bbrHighGain, bbrCwndGain
}

func (b *BBR) enterProbeBW(now time.Time) {
	b.mode, b.cwndGain = bbrProbeBW, bbrCwndGain
	b.stopModulating()
	b.rng ^= b.rng << 13
	b.rng ^= b.rng >> 7
	b.rng ^= b.rng << 17
	b.cycleIndex = len(bbrPacingGainCycle) - 1 - int(b.rng%7)
	b.advanceCycle(now)
}

func (b *BBR) advanceCycle(now time.Time) {
	b.cycleIndex = (b.cycleIndex + 1) % len(bbrPacingGainCycle)
	b.cycleStamp = now
	b.lossThisCycle = false
	b.pacingGain = bbrPacingGainCycle[b.cycleIndex]
	if b.pacingGain > 1 {
		b.startBoundProbe()
	}
}

// updateCyclePhase moves through the PROBE_BW gain cycle: each phase lasts
// a min RTT; the 1.25 phase also until the flight reached 1.25 BDP or the
// inflight bound (or a loss), the 0.75 phase ends early once the flight is
// down to one BDP.
func (b *BBR) updateCyclePhase(now time.Time, priorInFlight int) {
	if b.mode != bbrProbeBW {
		return
	}
	full := now.Sub(b.cycleStamp) > b.minRTT
	next := full
	switch {
	case b.pacingGain > 1:
		atBound := b.boundReached(priorInFlight)
		b.bound.probeHit = b.bound.probeHit || atBound
		next = full && (b.lossThisCycle || atBound || priorInFlight >= b.targetInflight(b.pacingGain))
		if next {
			b.endBoundProbe()
		}
	case b.pacingGain < 1:
		next = full || priorInFlight <= b.targetInflight(1)
	}
	if next {
		b.advanceCycle(now)
	}
}

// checkFullPipe ends STARTUP's growth after bbrFullBwRounds rounds in which
// BtlBw grew less than 25%.
func (b *BBR) checkFullPipe(rs rateSample) {
	if b.filledPipe || !b.roundStart || rs.appLimited {
		return
	}
	if bw := b.btlBw.get(); float64(bw) >= float64(b.fullBw)*bbrFullBwGrowth {
		b.fullBw, b.fullBwCount = bw, 0
		return
	}
	b.fullBwCount++
	if b.fullBwCount >= bbrFullBwRounds {
		b.filledPipe = true
	}
}

// checkDrain moves STARTUP → DRAIN once the pipe is full and DRAIN →
// PROBE_BW once the flight is down to one BDP.
func (b *BBR) checkDrain(now time.Time) {
	if b.mode == bbrStartup && b.filledPipe {
		b.mode, b.pacingGain, b.cwndGain = bbrDrain, bbrDrainGain, bbrCwndGain
	}
	if b.mode == bbrDrain && b.flight <= b.targetInflight(1) {
		b.enterProbeBW(now)
	}
}

// updateMinRTT keeps the 10 s min RTT and runs PROBE_RTT.
func (b *BBR) updateMinRTT(now time.Time, rtt time.Duration) {
	if rtt > 0 {
		b.latestRTT = rtt
		if b.srtt == 0 {
			b.srtt, b.rttVar = rtt, rtt/2
		} else {
			d := rtt - b.srtt
			b.rttVar += (max(d, -d) - b.rttVar) / 4
			b.srtt += d / 8
		}
		b.guard.varMax = max(b.guard.varMax, b.rttVar)
	}
	expired := !b.minRTTStamp.IsZero() && now.Sub(b.minRTTStamp) > bbrMinRTTWindow
	if rtt > 0 && (b.minRTT == 0 || rtt <= b.minRTT || expired) {
		b.minRTT, b.minRTTStamp = rtt, now
	}
	if expired && b.mode != bbrProbeRTT {
		b.mode, b.pacingGain, b.cwndGain = bbrProbeRTT, 1, 1
		b.priorCwnd = b.saveCwnd()
		b.probeRTTDone = time.Time{}
	}
	if b.mode != bbrProbeRTT {
		return
	}
	switch {
	case b.probeRTTDone.IsZero() && b.flight <= b.minPipe:
		b.probeRTTDone = now.Add(bbrProbeRTTDuration)
		b.probeRTTRoundDone = false
		b.nextRoundDelivered = b.sampler.delivered
	case !b.probeRTTDone.IsZero():
		if b.roundStart {
			b.probeRTTRoundDone = true
		}
		if b.probeRTTRoundDone && !now.Before(b.probeRTTDone) {
			b.minRTTStamp = now
			b.cwnd = max(b.cwnd, b.priorCwnd)
			if b.filledPipe {
				b.enterProbeBW(now)
			} else {
				b.enterStartup()
			}
		}
	}
}

// saveCwnd is the cwnd to restore after PROBE_RTT or an RTO.
func (b *BBR) saveCwnd() int {
	if b.mode == bbrProbeRTT || b.rtoRecovery {
		return max(b.priorCwnd, b.cwnd)
	}
	return b.cwnd
}

// setPacingRate paces at gain × BtlBw; in STARTUP the rate only rises.
func (b *BBR) setPacingRate() {
	bw := b.btlBw.get()
	if bw == 0 {
		if b.srtt > 0 && b.pacingRate == 0 {
			b.pacingRate = rateFromWindow(b.cwnd, b.srtt, bbrHighGain)
		}
		return
	}
	rate := Bandwidth(b.pacingGain * bbrPacingMargin * float64(bw))
	if b.filledPipe || rate > b.pacingRate {
		b.pacingRate = rate
	}
}

// setCwnd grows cwnd towards cwnd_gain × BDP by the acked bytes.
func (b *BBR) setCwnd(acked int) {
	target := b.targetInflight(b.cwndGain)
	switch {
	case b.rtoRecovery:
		b.cwnd = max(b.cwnd+acked, b.flight+acked)
	case b.filledPipe:
		b.cwnd = min(b.cwnd+acked, target)
	case b.cwnd < target || b.sampler.delivered < int64(b.initialCwnd):
		b.cwnd += acked
	}
	b.cwnd = max(b.cwnd, b.minPipe)
	if b.mode == bbrProbeRTT {
		b.cwnd = min(b.cwnd, b.minPipe)
	}
	if c := b.guard.cap; c > 0 {
		b.cwnd = min(b.cwnd, c)
	}
	b.cwnd = min(b.cwnd, b.maxWindow)
}

// OnDuplicateAck implements Controller (BBR does not inflate).
func (b *BBR) OnDuplicateAck(time.Time) {}

// OnCongestionEvent implements Controller: the loss enters or extends loss
// recovery (bbr_recovery.go), which caps the model's cwnd while losses
// continue; it counts for the loss guard and the PROBE_BW cycle, and may
// end STARTUP (loss_guard.go).
func (b *BBR) OnCongestionEvent(now time.Time, pn uint64, lostBytes, priorInFlight int) {
	b.flight = max(priorInFlight-lostBytes, 0)
	if p, lostSince, ok := b.sampler.onLost(pn, lostBytes); ok {
		b.onBoundLoss(p, lostSince)
	}
	b.guard.onLost(lostBytes)
	b.lossThisCycle = true
	if !b.rtoRecovery {
		b.onRecoveryLoss(lostBytes)
	}
	b.checkStartupLoss(now)
	b.emit(now)
}

// OnRetransmissionTimeout implements Controller: cwnd drops to 4 segments
// until a packet sent after the RTO is acked; loss recovery ends.
func (b *BBR) OnRetransmissionTimeout(now time.Time) {
	b.priorCwnd = b.saveCwnd()
	b.rtoRecovery, b.rtoEnd = true, b.largestSent
	b.recovery = bbrRecovery{}
	b.cwnd = b.minPipe
	b.emit(now)
}

// CanSend implements Controller.
func (b *BBR) CanSend(bytesInFlight int) bool { return bytesInFlight < b.window() }

// TimeUntilSend implements Controller.
func (b *BBR) TimeUntilSend(int) time.Time {
	if b.noPacing {
		return time.Time{}
	}
	return b.pacer.TimeUntilSend(b.pacingRate)
}

// CongestionWindow implements Controller: the model's cwnd, capped by the
// recovery window during loss recovery.
func (b *BBR) CongestionWindow() int { return b.window() }

// SlowStartThreshold implements Controller: BBR has none.
func (b *BBR) SlowStartThreshold() int { return infiniteSSThresh }

// PacingRate implements Controller.
func (b *BBR) PacingRate() Bandwidth {
	if b.noPacing {
		return 0
	}
	return b.pacingRate
}

// BandwidthEstimate returns the windowed-max bottleneck bandwidth (0 before
// the first sample).
func (b *BBR) BandwidthEstimate() Bandwidth { return b.btlBw.get() }

// MinRTT returns BBR's min RTT estimate (0 before the first sample).
func (b *BBR) MinRTT() time.Duration { return b.minRTT }

// PacingGain returns the current pacing gain (2.885 in STARTUP, the
// PROBE_BW cycle gain, ...).
func (b *BBR) PacingGain() float64 { return b.pacingGain }

// InSlowStart implements Controller: true in STARTUP.
func (b *BBR) InSlowStart() bool { return b.mode == bbrStartup }

// InRecovery implements Controller.
func (b *BBR) InRecovery() bool { return b.recovery.state != bbrNotInRecovery || b.rtoRecovery }

// State implements Controller: "startup", "drain", "probe_bw" or
// "probe_rtt".
func (b *BBR) State() string { return bbrModeNames[b.mode] }

func (b *BBR) emit(now time.Time) {
	b.trace.emit(now, b.window(), infiniteSSThresh, b.flight, b.State(), b.PacingRate())
}
