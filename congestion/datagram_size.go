package congestion

// DatagramSizeSetter is implemented by controllers whose window arithmetic
// counts segments (NewReno, Cubic, BBR). An owner whose datagram size grows
// mid-connection (path-MTU discovery) calls SetMaxDatagramSize, through a
// type assertion, with the new size: the segment used for window growth,
// minimum windows and pacing bursts follows it (RFC 9002 §7.2), while the
// window in bytes stays as it is. Sizes not above the current one, or
// above 65535, are ignored.
type DatagramSizeSetter interface {
	SetMaxDatagramSize(n int)
}

var (
	_ DatagramSizeSetter = (*NewReno)(nil)
	_ DatagramSizeSetter = (*Cubic)(nil)
	_ DatagramSizeSetter = (*BBR)(nil)
)

// growSegment returns the segment size after a request for n, and whether
// it changed.
func growSegment(mss, n int) (int, bool) {
	if n <= mss || n > 65535 {
		return mss, false
	}
	return n, true
}

// SetMaxDatagramSize implements DatagramSizeSetter.
func (r *NewReno) SetMaxDatagramSize(n int) {
	mss, ok := growSegment(r.mss, n)
	if !ok {
		return
	}
	r.minWindow = r.minWindow / r.mss * mss
	r.mss = mss
	r.pacer.setMaxDatagramSize(mss)
}

// SetMaxDatagramSize implements DatagramSizeSetter.
func (c *Cubic) SetMaxDatagramSize(n int) {
	mss, ok := growSegment(c.mss, n)
	if !ok {
		return
	}
	c.minWindow = c.minWindow / c.mss * mss
	c.mss = mss
	c.pacer.setMaxDatagramSize(mss)
}

// SetMaxDatagramSize implements DatagramSizeSetter.
func (b *BBR) SetMaxDatagramSize(n int) {
	mss, ok := growSegment(b.mss, n)
	if !ok {
		return
	}
	b.minPipe = bbrMinPipePackets * mss
	b.mss = mss
	b.pacer.setMaxDatagramSize(mss)
}
