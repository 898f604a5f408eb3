package rudp

import "errors"

// Sentinel errors wrapped by the decoders (errors.Is works on all of them).
var (
	// ErrTruncated: the input ends before a field does.
	ErrTruncated = errors.New("rudp: truncated packet")
	// ErrVersion: the packet is of another wire version.
	ErrVersion = errors.New("rudp: unknown version")
	// ErrMalformed: a field holds an impossible value.
	ErrMalformed = errors.New("rudp: malformed packet")
	// ErrChecksum: the CRC32-C trailer does not match (corruption).
	ErrChecksum = errors.New("rudp: checksum mismatch")
)
