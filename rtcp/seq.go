package rtcp

// SeqDiff returns b-a as a signed distance in 16-bit sequence space: positive
// when b is after a, taking wrap-around into account (RFC 1982 serial
// arithmetic). It is the one helper skiff's media code uses for every
// sequence-number comparison.
func SeqDiff(a, b uint16) int { return int(int16(b - a)) }

// SeqLess reports whether a comes before b in 16-bit sequence space.
func SeqLess(a, b uint16) bool { return SeqDiff(a, b) > 0 }

// SeqUnwrapper extends 16-bit sequence numbers to 64 bits by tracking
// wrap-around. The zero value is ready; the first number seen is taken as is.
// Not safe for concurrent use.
type SeqUnwrapper struct {
	last    int64
	started bool
}

// Unwrap returns the extended value of seq: the value congruent to seq mod
// 2^16 closest to the previously returned one. The result never goes below 0.
func (u *SeqUnwrapper) Unwrap(seq uint16) int64 {
	if !u.started {
		u.started = true
		u.last = int64(seq)
		return u.last
	}
	v := u.last + int64(SeqDiff(uint16(u.last), seq))
	if v < 0 {
		v += 1 << 16
	}
	if v > u.last {
		u.last = v
	}
	return v
}
