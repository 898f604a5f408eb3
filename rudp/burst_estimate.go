package rudp

import (
	"math"
	"time"
)

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
