package congestion

// BBR's cwnd modulation in loss recovery
// (draft-cardwell-iccrg-bbr-congestion-control-00 §4.2.3.4, Linux
// tcp_bbr.c bbr_set_cwnd_to_recover_or_restore, Chromium's QUIC BBR
// recovery window). The model's cwnd (cwnd_gain × BDP) is left alone; a
// recovery window caps it while losses continue:
//
//   - the loss that starts modulation sets the window to the flight plus
//     one segment, and for one round each ack raises it to at least
//     flight + acked: packet conservation, one packet out per packet
//     delivered, so a queue that overflowed stops growing;
//   - every further loss takes its bytes off the window (lost packets are
//     not replaced, only delivered ones);
//   - after that round each ack adds the acked bytes (two packets out per
//     packet delivered, like slow start), up to the model's cwnd;
//   - every loss extends recovery to the packets sent so far; once a
//     packet sent after the last loss is acked (a round without loss)
//     recovery ends and the model's cwnd applies again, which restores at
//     least the cwnd held before (max(cwnd, prior_cwnd) in Linux's terms).
//
// Where skiff departs from v1: the window is modulated only in STARTUP and
// DRAIN and only when the RTT shows a queue (the last 16 samples all above
// the min RTT by the loss guard's margin), and entering PROBE_BW stops it.
// That is the case it exists for: STARTUP's 2.89 gain overflowing a
// shallow queue (flowsim, bench link, half a BDP of queue, first 3 s:
// queue drops 437 with neither, 285 with this alone, 167 with the STARTUP
// loss exit of loss_guard.go alone, 135 with both). Measured alternatives: modulating in PROBE_BW as well cut NewReno's share
// beside BBR from 30% to 21% (flowsim, 8 seeds; BBR loses less, so the loss
// guard fires less) and bench-P4 goodput (jitter, bursty loss, cwnd-bound
// because jitter lowers the min RTT) by ~1.3 Mbit/s in fake time; without
// the queue test, random loss in STARTUP costs a conserved round per
// recovery and ~0.5 Mbit/s at 5–10% loss.

// bbrRecoveryState is the phase of loss recovery.
type bbrRecoveryState uint8

const (
	bbrNotInRecovery bbrRecoveryState = iota
	bbrLossRecovery                   // losses, window not modulated
	bbrConservation                   // first round: one packet out per packet delivered
	bbrGrowth                         // later rounds: two out per packet delivered
)

// bbrRecovery is loss recovery's state. The zero value is "not in
// recovery".
type bbrRecovery struct {
	state  bbrRecoveryState
	window int    // bytes; binds in bbrConservation and bbrGrowth
	round  uint64 // largest sent when conservation began: it ends once a later packet is acked
	end    uint64 // largest sent at the last loss: recovery ends once a later packet is acked
}

// modulating reports whether the recovery window binds.
func (r *bbrRecovery) modulating() bool {
	return r.state == bbrConservation || r.state == bbrGrowth
}

// onRecoveryLoss records a loss of lostBytes; b.flight has already dropped
// them.
func (b *BBR) onRecoveryLoss(lostBytes int) {
	r := &b.recovery
	r.end = b.largestSent
	switch {
	case r.modulating():
		r.window = max(r.window-lostBytes, b.minPipe)
	case (b.mode == bbrStartup || b.mode == bbrDrain) && b.queued(b.guard.recentMin()):
		r.state, r.round = bbrConservation, b.largestSent
		r.window = max(b.flight+b.mss, b.minPipe)
	default:
		r.state = bbrLossRecovery
	}
}

// onRecoveryAck advances recovery on the ack of packet pn and applies the
// window for acked bytes; b.flight no longer counts them.
func (b *BBR) onRecoveryAck(pn uint64, acked int) {
	r := &b.recovery
	if r.state == bbrNotInRecovery {
		return
	}
	if pn > r.end {
		r.state = bbrNotInRecovery
		return
	}
	if !r.modulating() {
		return
	}
	if r.state == bbrConservation && pn > r.round {
		r.state = bbrGrowth
	}
	if r.state == bbrGrowth {
		r.window += acked
	}
	floor := max(b.flight+acked, b.minPipe)
	r.window = max(min(r.window, b.cwnd), floor)
}

// stopModulating lets the model's cwnd apply again; recovery itself lasts
// until a round without loss.
func (b *BBR) stopModulating() {
	if b.recovery.modulating() {
		b.recovery.state = bbrLossRecovery
	}
}

// window returns the cwnd in force: the model's, capped by the recovery
// window while it binds and by the inflight bound (inflight_bound.go).
func (b *BBR) window() int {
	w := b.cwnd
	if b.recovery.modulating() {
		w = min(w, b.recovery.window)
	}
	if lim := b.inflightLimit(); lim > 0 {
		w = min(w, max(lim, b.minPipe))
	}
	return w
}
