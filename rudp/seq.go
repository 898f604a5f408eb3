package rudp

// UnwrapPN expands a 32-bit wire packet number (or reliable sequence number)
// to the 64-bit value nearest to ref, the largest 64-bit number seen so far
// in the same number space (RFC 9000 §A.3 style, with a 32-bit window).
// Every wrap-around comparison in skiff goes through this one helper: code
// compares the 64-bit results, never the raw 32-bit values.
//
// A value up to 2^31−1 ahead of ref or up to 2^31 behind it is decoded
// relative to ref; a result that would be negative is instead taken as the
// value in the first 2^32 window.
func UnwrapPN(ref uint64, v uint32) uint64 {
	diff := int64(int32(v - uint32(ref))) // in [-2^31, 2^31)
	if diff < 0 && uint64(-diff) > ref {
		return uint64(v)
	}
	return uint64(int64(ref) + diff)
}
