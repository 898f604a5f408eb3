package fec

import (
	"math"
	"time"
)

// SparseTargetGroupLoss is the target SetBurstLoss applies to sparse
// groups (closed by the delay bound with at most K/2 packets): latency-
// bound traffic such as 200-byte messages at 50 Hz, where every group FEC
// cannot rebuild delays a message by an ARQ round trip. A p99 allows 1%;
// the target sits well below it because the loss estimates are noisy: at
// 0.5%, P4's estimates of q, between 0.5 and 0.8, kept flipping m between
// 3 and 4, and three repairs leave a lone message a 1.5% failure rate.
// The configured TargetGroupLoss applies instead if it is lower.
const SparseTargetGroupLoss = 1e-3

// The path a Strategy assumes for sparse groups before it has measured
// one (see SetBurstLoss and doc.go, "Sparse groups"): 5% loss in bursts
// with P(lost | previous lost) = 0.7, a mean burst of 3.3 packets, a
// little worse than the bench's P4 profile. Under it a lone message needs
// more repairs than any SparseMaxM allows, so sparse groups start at
// SparseMaxM (or MaxCopies) and fall back as repair outcomes show a
// cleaner path.
const (
	SparsePriorLoss  = 0.05
	SparsePriorBurst = 0.7
)

// SetBurstLoss sets the repairs of sparse groups for a path whose losses
// may come in bursts: p is the loss rate and q the conditional loss
// P(lost | previous packet lost) (q ≈ p when losses are independent). A
// sparse group is one the delay bound closed (or Flush) with k' ≤ K/2
// packets. It gets the smallest m in [MinM, SparseMaxM] with P(more than m of
// its k'+m back-to-back packets lost) under Gilbert's two-state model
// below min(TargetGroupLoss, SparseTargetGroupLoss), and never less than
// the regular rule (Parity): under per-packet bursts a lone message's
// repair is lost with probability q once the message was, so a bursty
// path needs more repairs than the independent rule gives.
//
// With XOR, only groups of one packet are affected: their parity is a
// copy of the packet, so the group's one parity packet is sent up to
// MaxCopies times (same header; the decoder counts the spares as
// duplicates), which is RS(1, copies) on the wire.
//
// The repairs beyond the regular rule are paid from a budget of
// SparseRepairRate bytes per second; what it cannot pay is not sent
// (EncoderStats.SparseWithheld). Full groups, and groups of more than K/2
// packets, keep the regular rule: their parity is the bulk overhead, and
// interleaving, not parity, is the answer to bursts there.
//
// Each call replaces the previous one's choice; an Encoder on which it
// was never called (or with a negative SparseRepairRate) gives sparse
// groups the regular rule. It takes effect for groups that close after
// the call. Invalid p or q (NaN, outside [0,1]) are ignored.
//
// It only records p and q: the repair counts are computed when a sparse
// group next closes (or SparseParity asks), so a session calling it on
// every ack costs nothing while it sends no sparse groups.
func (e *Encoder) SetBurstLoss(p, q float64) {
	if !(p >= 0 && p <= 1 && q >= 0 && q <= 1) || e.cfg.SparseRepairRate < 0 {
		return
	}
	e.burstP, e.burstQ, e.burstSet = p, q, true
}

// sparseTable brings sparseFor up to date with the last SetBurstLoss.
func (e *Encoder) sparseTable() {
	if !e.burstSet || (e.burstP == e.tableP && e.burstQ == e.tableQ && e.tableOK) {
		return
	}
	p, q := e.burstP, e.burstQ
	e.tableP, e.tableQ, e.tableOK = p, q, true
	target := min(e.cfg.TargetGroupLoss, SparseTargetGroupLoss)
	for k := 1; k <= e.cfg.K/2; k++ {
		if e.cfg.Scheme == SchemeXOR {
			e.sparseFor[k] = uint8(xorCopiesFor(k, p, max(q, p), target, e.cfg.MaxCopies))
			continue
		}
		e.sparseFor[k] = uint8(BurstParityFor(k, p, max(q, p), target, e.cfg.MinM, e.cfg.SparseMaxM))
	}
}

// SparseParity returns the repair packets a sparse group of k packets
// (clamped to [1, K]) would get now if the budget allows: the larger of
// Parity(k) and SetBurstLoss's choice. For XOR it counts the copies of
// the one parity packet.
func (e *Encoder) SparseParity(k int) int {
	e.sparseTable()
	k = min(max(k, 1), e.cfg.K)
	return max(e.Parity(k), int(e.sparseFor[k]))
}

// setNow records the latest time the caller passed (Flush takes none).
func (e *Encoder) setNow(now time.Time) {
	if now.After(e.now) {
		e.now = now
	}
}

// sparseBucketSpan is how much of SparseRepairRate the budget's token
// bucket holds: a quarter second, so a burst of messages gets its repairs
// but a sustained stream of sparse groups gets no more than the rate.
const sparseBucketSpan = 250 * time.Millisecond

// noteSource adds a source packet of n bytes to the decaying count of
// recent source bytes (time constant sparseBucketSpan).
func (e *Encoder) noteSource(now time.Time, n int) {
	if e.srcAt.IsZero() || !now.After(e.srcAt) {
		e.srcAcc += float64(n)
		if e.srcAt.IsZero() {
			e.srcAt = now
		}
		return
	}
	e.srcAcc = e.srcAcc*math.Exp(-float64(now.Sub(e.srcAt))/float64(sparseBucketSpan)) + float64(n)
	e.srcAt = now
}

// addSparseRepairs raises the repair count of g, a group the delay bound
// closed early, to SparseParity as far as the budget pays for it. Only
// sparse traffic qualifies: the source bytes of the last sparseBucketSpan
// (decayed) must themselves fit the budget, so a bulk transfer's odd
// small group (slow start, a stall, the tail) keeps the regular rule.
func (e *Encoder) addSparseRepairs(g *egroup) {
	if g.n > e.cfg.K/2 || e.cfg.SparseRepairRate < 0 {
		return
	}
	e.sparseTable()
	want := int(e.sparseFor[g.n]) - g.nsend
	if want <= 0 {
		return
	}
	rate := float64(e.cfg.SparseRepairRate)
	capacity := rate * sparseBucketSpan.Seconds()
	if e.srcAcc > capacity {
		e.stats.SparseWithheld += uint64(want)
		return
	}
	switch d := e.now.Sub(e.tokensAt); {
	case !e.bucketOn:
		e.tokens, e.bucketOn = capacity, true
	case d > 0:
		e.tokens = min(capacity, e.tokens+rate*d.Seconds())
	}
	e.tokensAt = e.now
	cost := float64(g.shardLen + RepairHeaderSize)
	grant := min(want, int(e.tokens/cost))
	e.tokens -= float64(grant) * cost
	e.stats.SparseRepairs += uint64(grant)
	e.stats.SparseWithheld += uint64(want - grant)
	g.nsend += grant
	if e.cfg.Scheme != SchemeXOR {
		g.m = g.nsend // distinct RS parity shards, at most SparseMaxM
	}
}
