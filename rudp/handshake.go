package rudp

import (
	"encoding/binary"
	"fmt"
)

// Handshake size limits.
const (
	// MaxCookieSize bounds the stateless cookie a server may issue.
	MaxCookieSize = 64
	// MaxKeyShareSize bounds the key-exchange field reserved for a later
	// authenticated-encryption handshake.
	MaxKeyShareSize = 512
	handshakeFixed  = 2 + 4 + 1 + 2
)

// Handshake is the body of TypeHello, TypeRetry and TypeAccept packets.
// Cookie and KeyShare alias the decoded buffer. The zero value is an empty
// hello.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            MTU (16)           |   Initial Max Seq (32) ...    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  ... Initial Max Seq          |Cookie Len (8) | Cookie ...    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Key Share Len (16)        |  Key Share ... | Padding (0s) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A client's first hello has no cookie; the server answers with a Retry
// carrying one; the client repeats its hello with the cookie; the server
// answers Accept. Hellos are padded with zeros to the MTU so that the
// server's answers stay far below 3× the bytes it received (anti-
// amplification). Key Share is empty until encryption lands.
type Handshake struct {
	MTU      uint16
	MaxSeq   uint32 // the sender's initial flow-control limit (its receive window)
	Cookie   []byte
	KeyShare []byte
}

// MarshalSize returns the encoded size without padding.
func (h *Handshake) MarshalSize() int { return handshakeFixed + len(h.Cookie) + len(h.KeyShare) }

// AppendTo appends the encoded body (no padding). Oversized fields are
// truncated to their limits.
func (h *Handshake) AppendTo(b []byte) []byte {
	c, k := h.Cookie, h.KeyShare
	if len(c) > MaxCookieSize {
		c = c[:MaxCookieSize]
	}
	if len(k) > MaxKeyShareSize {
		k = k[:MaxKeyShareSize]
	}
	b = binary.BigEndian.AppendUint16(b, h.MTU)
	b = binary.BigEndian.AppendUint32(b, h.MaxSeq)
	b = append(b, uint8(len(c)))
	b = append(b, c...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
	return append(b, k...)
}

// Unmarshal decodes the body; the rest of b must be zero padding.
func (h *Handshake) Unmarshal(b []byte) (int, error) {
	if len(b) < handshakeFixed {
		return 0, fmt.Errorf("%w: handshake needs %d bytes, have %d", ErrTruncated, handshakeFixed, len(b))
	}
	h.MTU = binary.BigEndian.Uint16(b)
	h.MaxSeq = binary.BigEndian.Uint32(b[2:])
	cl := int(b[6])
	if cl > MaxCookieSize {
		return 0, fmt.Errorf("%w: cookie length %d above %d", ErrMalformed, cl, MaxCookieSize)
	}
	if len(b) < 7+cl+2 {
		return 0, fmt.Errorf("%w: cookie of %d bytes", ErrTruncated, cl)
	}
	h.Cookie = b[7 : 7+cl : 7+cl]
	off := 7 + cl
	kl := int(binary.BigEndian.Uint16(b[off:]))
	off += 2
	if kl > MaxKeyShareSize {
		return 0, fmt.Errorf("%w: key share length %d above %d", ErrMalformed, kl, MaxKeyShareSize)
	}
	if len(b) < off+kl {
		return 0, fmt.Errorf("%w: key share of %d bytes", ErrTruncated, kl)
	}
	h.KeyShare = b[off : off+kl : off+kl]
	off += kl
	for i := off; i < len(b); i++ {
		if b[i] != 0 {
			return 0, fmt.Errorf("%w: non-zero padding byte %#x at offset %d", ErrMalformed, b[i], i)
		}
	}
	return len(b), nil
}
