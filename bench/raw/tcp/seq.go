package tcp

// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every comparison
// of sequence or acknowledgement numbers in this package goes through these.

// seqLT reports a < b modulo 2^32.
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// seqLEQ reports a <= b modulo 2^32.
func seqLEQ(a, b uint32) bool { return int32(a-b) <= 0 }

// seqGT reports a > b modulo 2^32.
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }

// seqGEQ reports a >= b modulo 2^32.
func seqGEQ(a, b uint32) bool { return int32(a-b) >= 0 }

// seqInWindow reports start <= s < start+size modulo 2^32.
func seqInWindow(s, start, size uint32) bool { return s-start < size }

// seqMax returns the later of a and b modulo 2^32.
func seqMax(a, b uint32) uint32 {
	if seqGT(a, b) {
		return a
	}
	return b
}
