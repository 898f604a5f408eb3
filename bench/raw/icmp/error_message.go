package icmp

import (
	"encoding/binary"
	"fmt"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// Error is a destination unreachable (type 3) or time exceeded (type 11)
// message, which quotes the IP header and at least the first 8 payload bytes
// of the datagram that caused it (RFC 792; RFC 1812 allows more):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            unused             |  Next-Hop MTU (type 3 code 4) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      Internet Header + leading bytes of the original payload  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The zero value is a "net unreachable" with an empty quote. After
// Unmarshal, QuotedPayload aliases the decoded buffer. Not safe for
// concurrent mutation.
type Error struct {
	Type          uint8  // TypeDestUnreachable or TypeTimeExceeded
	Code          uint8  // CodePortUnreachable, CodeFragNeeded, CodeTTLExceeded, ...
	NextHopMTU    uint16 // meaningful for CodeFragNeeded (RFC 1191); 0 otherwise
	Quoted        ipv4.Header
	QuotedPayload []byte // the quoted bytes after the quoted header (RFC 792: at least 8)
}

// MarshalSize returns the encoded length.
func (e *Error) MarshalSize() int { return HeaderLen + e.Quoted.MarshalSize() + len(e.QuotedPayload) }

// AppendTo appends the encoded message with its checksum to b. The quoted
// header is encoded from e.Quoted (its checksum recomputed).
func (e *Error) AppendTo(b []byte) []byte {
	start := len(b)
	b = append(b, e.Type, e.Code, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, e.NextHopMTU)
	q := e.Quoted
	b = q.AppendTo(b)
	b = append(b, e.QuotedPayload...)
	return finish(b, start)
}

// Unmarshal decodes an error message that fills b: checksum, type, and the
// quoted IPv4 header (which must be valid, checksum included). It returns len(b).
func (e *Error) Unmarshal(b []byte) (int, error) {
	typ, code, err := TypeOf(b)
	if err != nil {
		return 0, err
	}
	if typ != TypeDestUnreachable && typ != TypeTimeExceeded {
		return 0, fmt.Errorf("%w: type %d code %d is not an error message", ErrType, typ, code)
	}
	n, err := e.Quoted.Unmarshal(b[HeaderLen:])
	if err != nil {
		return 0, fmt.Errorf("icmp: quoted header of type %d code %d: %w", typ, code, err)
	}
	e.Type, e.Code = typ, code
	e.NextHopMTU = binary.BigEndian.Uint16(b[6:])
	e.QuotedPayload = b[HeaderLen+n:]
	return len(b), nil
}

// NewError builds the error message a host sends about the IPv4 packet pkt:
// its header and up to quoteLen payload bytes (RFC 792 asks for 8; Linux
// quotes up to 576 bytes in all). Returns an error if pkt has no valid header.
func NewError(typ, code uint8, pkt []byte, quoteLen int) (Error, error) {
	e := Error{Type: typ, Code: code}
	n, err := e.Quoted.Unmarshal(pkt)
	if err != nil {
		return Error{}, fmt.Errorf("icmp: cannot quote: %w", err)
	}
	end := min(len(pkt), int(e.Quoted.TotalLength), n+quoteLen)
	e.QuotedPayload = pkt[n:end]
	return e, nil
}
