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

// growSegment moves a window-based controller's segment size to n: the
// minimum window keeps its count of segments. It reports whether the size
// changed.
func growSegment(mss, minWindow *int, pacer *Pacer, n int) bool {
	if n <= *mss || n > 65535 {
		return false
	}
	*minWindow = *minWindow / *mss * n
	*mss = n
	pacer.setMaxDatagramSize(n)
	return true
}

// SetMaxDatagramSize implements DatagramSizeSetter.
func (r *NewReno) SetMaxDatagramSize(n int) { growSegment(&r.mss, &r.minWindow, &r.pacer, n) }

// SetMaxDatagramSize implements DatagramSizeSetter.
func (c *Cubic) SetMaxDatagramSize(n int) { growSegment(&c.mss, &c.minWindow, &c.pacer, n) }

// SetMaxDatagramSize implements DatagramSizeSetter (the minimum pipe is
// bbrMinPipePackets segments).
func (b *BBR) SetMaxDatagramSize(n int) { growSegment(&b.mss, &b.minPipe, &b.pacer, n) }
