package rudp

import (
	"math"
	"time"
)

// rttMaxFilter is a windowed maximum of the RTT samples: the largest
// over about the last rttMaxWindow (at least 16 SRTTs), kept as the maxima
// of rttMaxBuckets consecutive intervals. It bounds when an
// acknowledgement sent at once is due. Its zero value is empty.
type rttMaxFilter struct {
	b [rttMaxBuckets]struct {
		start time.Time
		max   time.Duration
		n     int
	}
	cur  int
	span time.Duration // interval of one bucket
}

const (
	rttMaxBuckets = 8
	rttMaxWindow  = time.Second
	// rttMaxMinSamples is how many samples the window needs to be trusted.
	rttMaxMinSamples = 8
)

func (f *rttMaxFilter) add(now time.Time, rtt, srtt time.Duration) {
	f.span = max(rttMaxWindow, 16*srtt) / rttMaxBuckets
	b := &f.b[f.cur]
	if b.n == 0 || now.Sub(b.start) >= f.span {
		f.cur = (f.cur + 1) % rttMaxBuckets
		b = &f.b[f.cur]
		b.start, b.max, b.n = now, 0, 0
	}
	b.max = max(b.max, rtt)
	b.n++
}

// max returns the largest sample of the buckets begun within the window
// before now; ok is false while they hold too few samples.
func (f *rttMaxFilter) max(now time.Time) (m time.Duration, ok bool) {
	n := 0
	for i := range f.b {
		b := &f.b[i]
		if b.n == 0 || now.Sub(b.start) > rttMaxBuckets*f.span {
			continue
		}
		m, n = max(m, b.max), n+b.n
	}
	return m, n >= rttMaxMinSamples
}

// Tail copies under bursty loss.
const (
	// maxTailCopies bounds the copies of one frame a tail expiry sends.
	maxTailCopies = 6
	// tailCopiesMiss is the chance that every copy is lost the copies
	// aim for, given the one before them was.
	tailCopiesMiss = 0.1
	// burstMaxPairs: past it, the counts halve (the estimate follows the
	// path).
	burstMaxPairs = 64
)

// burstEstimator measures how loss clusters on the path: over consecutive
// ack-eliciting transmissions whose fate is settled (acknowledged, or
// unacknowledged long after it was declared or presumed lost), the share
// of those following a lost one that were lost too, P(lost | previous
// lost). Random loss gives about the loss rate; a Gilbert-Elliott burst
// with mean length L gives 1 − 1/L. It is the sender's view of the loss
// that matters for copies sent back to back. The zero value has no
// estimate.
type burstEstimator struct {
	cursor   uint64 // next packet number to settle
	prevLost int8   // fate of the previous ack-eliciting one: 0 unknown, 1 delivered, 2 lost
	pairs    float64
	both     float64
}

// settle advances over the transmissions whose fate is known at now: an
// unacknowledged one counts as lost once it left the flight and was sent
// more than wait ago (a late acknowledgement would have come).
func (b *burstEstimator) settle(h *SentHistory, now time.Time, wait time.Duration) {
	if b.cursor < h.Base() {
		b.cursor, b.prevLost = h.Base(), 0
	}
	for ; b.cursor < h.NextPN(); b.cursor++ {
		p := h.Get(b.cursor)
		if !p.AckEliciting {
			continue
		}
		var fate int8 = 1
		if !p.Acked {
			if p.InFlight || p.Time.Add(wait).After(now) {
				return
			}
			fate = 2
		}
		if b.prevLost == 2 {
			b.pairs++
			if fate == 2 {
				b.both++
			}
			if b.pairs >= burstMaxPairs {
				b.pairs, b.both = b.pairs/2, b.both/2
			}
		}
		b.prevLost = fate
	}
}

// estimate returns P(lost | previous lost), with Laplace's rule of
// succession: one half before any pair was seen, so that a connection hit
// by a burst early hedges until the path shows how its losses cluster.
func (b *burstEstimator) estimate() float64 {
	return (b.both + 1) / (b.pairs + 2)
}

// copies is how many copies of a frame a tail expiry of a short flight
// sends: two (RFC 9002 §6.2.4's two probes), or as many as it takes for
// all of them to be lost with a chance of at most tailCopiesMiss when the
// previous transmission was (at most maxTailCopies): under per-packet
// burst loss every packet sent is another draw, and the loss that
// triggered the expiry means the burst may still be on.
func (b *burstEstimator) copies() int {
	p := b.estimate()
	k := int(math.Ceil(math.Log(tailCopiesMiss) / math.Log(p)))
	return min(max(k, 2), maxTailCopies)
}

// rackState is RACK's reordering window for short flights (RFC 8985
// §6.2): a live transmission is lost once a packet sent more than the
// window after it was acknowledged. The window is half the spread of the
// recent RTTs (the largest of the last second over the minimum: under
// symmetric jitter how far one direction's delay varies), at least a
// quarter of the minimum RTT, times a multiplier that grows with every
// RACK loss found spurious (acknowledged later) and shrinks after
// rackDecay losses without one, at most SRTT. Its zero value is ready.
type rackState struct {
	ackAt time.Time // when the largest acknowledged packet was acknowledged
	mult  int       // window multiplier minus one
	clean int       // RACK losses since the last spurious one
	// recent RACK losses, to find spurious ones
	pns [rackRecent]uint64
	n   int
}

const (
	rackRecent  = 16
	rackDecay   = 16
	rackMaxMult = 4
)

// window returns the RTT of the newest acknowledged packet lp (as seen
// when it was acknowledged) and the reordering window; ok is false when
// RACK cannot run (no recent RTT spread known, or lp unknown).
func (r *rackState) window(rtt *RTTEstimator, f *rttMaxFilter, lp *SentPacket, now time.Time) (time.Duration, time.Duration, bool) {
	m, ok := f.max(now)
	if !ok || lp == nil || r.ackAt.Before(lp.Time) {
		return 0, 0, false
	}
	minRTT := rtt.MinRTT()
	w := max((m-minRTT)/2, minRTT/4, Granularity) * time.Duration(1+r.mult)
	return r.ackAt.Sub(lp.Time), min(w, rtt.SmoothedOrInitial()), true
}

// declared records a RACK loss.
func (r *rackState) declared(pn uint64) {
	r.pns[r.n%rackRecent] = pn
	r.n++
	if r.clean++; r.clean >= rackDecay && r.mult > 0 {
		r.mult, r.clean = r.mult-1, 0
	}
}

// checkSpurious widens the window when a recent RACK loss was
// acknowledged after all.
func (r *rackState) checkSpurious(h *SentHistory) {
	for i := 0; i < min(r.n, rackRecent); i++ {
		pn := r.pns[i]
		if pn == ^uint64(0) {
			continue
		}
		p := h.Get(pn)
		if p == nil {
			r.pns[i] = ^uint64(0)
			continue
		}
		if p.Acked {
			r.pns[i] = ^uint64(0)
			r.mult, r.clean = min(r.mult+1, rackMaxMult), 0
		}
	}
}
