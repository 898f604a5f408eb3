// Package congestion holds skiff's congestion controllers: the window
// arithmetic and pacing that decide how many bytes may be in flight and
// when the next packet may leave. Every skiff session uses one (whatever
// its reliability strategy), and the raw-socket TCP of the comparison
// benchmarks reuses them.
//
// Controllers: NewReno (RFC 5681/6582), Cubic (RFC 9438), BBR (the v1
// model, skiff's default; when the RTT shows a queue, loss starts v1's
// cwnd modulation in recovery during STARTUP and DRAIN, heavy loss ends
// STARTUP at once as in BBRv2, a guard caps inflight against heavy loss
// into a standing queue, and PROBE_BW keeps its flight below an inflight
// bound learned from such loss, BBRv2's inflight_hi; random loss without a
// queue does none of this) and Fixed (no congestion control, unfair, for
// experiments). New builds one by name. Pacer is the token bucket they share. Owners that
// know when they ran out of data call OnAppLimited on controllers that
// implement AppLimitedNotifier (BBR), so idle periods do not lower the
// bandwidth estimate.
//
// What this package owns: cwnd, ssthresh, recovery state, bandwidth and
// min-RTT models, pacing rate and next-send time, trace events.
//
// What it does not own: loss detection (packet/time thresholds, SACK
// holes, duplicate-ack counting), the RTT estimator and the retransmission
// timer live with the caller, which reports their verdicts through
// OnCongestionEvent, OnDuplicateAck and OnRetransmissionTimeout. The
// caller also decides what counts as congestion: loss that FEC repaired
// should by default not be reported as a congestion event, so FEC sessions
// on randomly lossy but uncongested links keep their rate.
//
// Controllers are pure state machines: every event carries its time, they
// never read a clock, start goroutines or do I/O, and they are not safe for
// concurrent use (the owner's run loop serialises calls). The package
// imports only the standard library and must not import any other skiff
// package. internal/flowsim is a test harness that drives controllers over
// an emulated bottleneck.
package congestion
