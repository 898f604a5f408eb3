package congestion

import (
	"math"
	"time"
)

// Pacer spreads packets over time with a token bucket: the budget grows at
// the pacing rate, is capped at a small burst, and each sent packet spends
// its size. Controllers embed one; it is exported so that owners with their
// own controller logic can reuse it.
//
// The zero value is not usable; use NewPacer. A Pacer is not safe for
// concurrent use.
type Pacer struct {
	maxDatagramSize int
	burstPackets    int
	budget          int // bytes available at lastSent; may be negative
	lastSent        time.Time
}

// minBurstDuration is how much sending time a burst may cover at high
// rates, so the owner is not woken once per packet.
const minBurstDuration = time.Millisecond

// NewPacer returns a pacer for segments of maxDatagramSize bytes that lets
// burstPackets segments out back to back. Non-positive arguments select
// DefaultMaxDatagramSize and DefaultPacingBurstPackets.
func NewPacer(maxDatagramSize, burstPackets int) *Pacer {
	p := &Pacer{}
	p.init(maxDatagramSize, burstPackets)
	return p
}

func (p *Pacer) init(maxDatagramSize, burstPackets int) {
	if maxDatagramSize <= 0 {
		maxDatagramSize = DefaultMaxDatagramSize
	}
	if burstPackets <= 0 {
		burstPackets = DefaultPacingBurstPackets
	}
	p.maxDatagramSize = maxDatagramSize
	p.burstPackets = burstPackets
	p.budget = burstPackets * maxDatagramSize
}

// setMaxDatagramSize changes the segment size the burst is counted in,
// keeping the budget.
func (p *Pacer) setMaxDatagramSize(n int) {
	if n > 0 {
		p.maxDatagramSize = n
	}
}

// maxBurst is the bucket size in bytes at rate.
func (p *Pacer) maxBurst(rate Bandwidth) int {
	b := p.burstPackets * p.maxDatagramSize
	if r := rate.Bytes(minBurstDuration); r > b {
		b = r
	}
	return b
}

// budgetAt is the budget in bytes at now under rate.
func (p *Pacer) budgetAt(now time.Time, rate Bandwidth) int {
	mb := p.maxBurst(rate)
	if rate == 0 || p.lastSent.IsZero() {
		return mb
	}
	elapsed := now.Sub(p.lastSent)
	if elapsed <= 0 {
		return min(p.budget, mb)
	}
	add := float64(rate) / 8 * elapsed.Seconds()
	if add > float64(mb) {
		return mb
	}
	return min(p.budget+int(add), mb)
}

// OnPacketSent spends bytes of budget at now, with the pacing rate in force.
func (p *Pacer) OnPacketSent(now time.Time, bytes int, rate Bandwidth) {
	b := p.budgetAt(now, rate) - bytes
	if lo := -p.maxBurst(rate); b < lo {
		b = lo
	}
	p.budget = b
	p.lastSent = now
}

// TimeUntilSend returns when the budget will cover one more segment at
// rate; the zero time if it does already or rate is 0 (no pacing).
func (p *Pacer) TimeUntilSend(rate Bandwidth) time.Time {
	if rate == 0 || p.lastSent.IsZero() || p.budget >= p.maxDatagramSize {
		return time.Time{}
	}
	need := float64(p.maxDatagramSize-p.budget) * 8 / float64(rate)
	d := time.Duration(math.Ceil(need * float64(time.Second)))
	return p.lastSent.Add(d)
}

// rateFromWindow is cwnd/srtt × gain, or 0 when srtt is unknown.
func rateFromWindow(cwnd int, srtt time.Duration, gain float64) Bandwidth {
	if srtt <= 0 {
		return 0
	}
	return Bandwidth(float64(cwnd) * 8 / srtt.Seconds() * gain)
}
