package rtcp

import "errors"

// Sentinel errors returned (wrapped with detail) by Decode and the parsers.
var (
	// ErrTooLarge: the datagram exceeds MaxPacketSize.
	ErrTooLarge = errors.New("rtcp: packet too large")
	// ErrMalformed: a header field or length is invalid.
	ErrMalformed = errors.New("rtcp: malformed packet")
	// ErrCompound: a compound packet breaks RFC 3550 §6.1 rules.
	ErrCompound = errors.New("rtcp: malformed compound packet")
)
