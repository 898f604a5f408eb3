package rudp

import "time"

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
