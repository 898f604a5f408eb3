package rtcp

import (
	"encoding/binary"
	"fmt"

	pionrtcp "github.com/pion/rtcp"
)

// RTCP common header (RFC 3550 §6.4.1), repeated for each packet of a
// compound datagram:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|    RC   |      PT       |             length            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// length is the packet size in 32-bit words minus one.

// Decode limits.
const (
	// MaxPacketSize is the largest datagram Decode accepts.
	MaxPacketSize = 1500
	// MaxCompoundPackets is the most RTCP packets one datagram may hold.
	MaxCompoundPackets = 16
)

// RTCP packet types referred to here (RFC 3550, RFC 4585).
const (
	TypeSR    = 200
	TypeRR    = 201
	TypeSDES  = 202
	TypeBYE   = 203
	TypeAPP   = 204
	TypeRTPFB = 205
	TypePSFB  = 206
)

// IsRTCP reports whether a datagram multiplexed with RTP on one port is RTCP
// (RFC 5761 §4: the second byte, RTP's M+PT, lies in 192..223 for RTCP).
func IsRTCP(b []byte) bool {
	return len(b) >= 2 && b[1] >= 192 && b[1] <= 223
}

// Validate checks the framing of a (possibly compound) RTCP datagram without
// decoding the packets: size bound, version 2 in every header, lengths that
// tile the datagram exactly, padding only on the last packet with a count
// that fits, at most MaxCompoundPackets packets, and a compound packet (more
// than one) starting with SR or RR (RFC 3550 §6.1). A single non-report
// packet is accepted (reduced-size RTCP, RFC 5506). It returns the number of
// packets.
func Validate(b []byte) (int, error) {
	if len(b) > MaxPacketSize {
		return 0, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(b), MaxPacketSize)
	}
	if len(b) < 4 {
		return 0, fmt.Errorf("%w: datagram of %d bytes is shorter than a header", ErrMalformed, len(b))
	}
	if len(b)%4 != 0 {
		return 0, fmt.Errorf("%w: datagram length %d is not a multiple of 4", ErrMalformed, len(b))
	}
	n := 0
	first := byte(0)
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return 0, fmt.Errorf("%w: packet %d: %d trailing bytes", ErrMalformed, n, len(b)-off)
		}
		if v := b[off] >> 6; v != 2 {
			return 0, fmt.Errorf("%w: packet %d: version %d, want 2", ErrMalformed, n, v)
		}
		pt := b[off+1]
		if pt < 192 || pt > 223 {
			return 0, fmt.Errorf("%w: packet %d: packet type %d outside 192..223", ErrMalformed, n, pt)
		}
		size := (int(binary.BigEndian.Uint16(b[off+2:])) + 1) * 4
		if size > len(b)-off {
			return 0, fmt.Errorf("%w: packet %d: length %d bytes exceeds the %d remaining", ErrMalformed, n, size, len(b)-off)
		}
		if b[off]&0x20 != 0 {
			if off+size != len(b) {
				return 0, fmt.Errorf("%w: packet %d: padding bit set on a packet that is not last", ErrCompound, n)
			}
			pad := int(b[off+size-1])
			if pad == 0 || pad > size-4 {
				return 0, fmt.Errorf("%w: packet %d: padding count %d invalid for length %d", ErrMalformed, n, pad, size)
			}
		}
		if n == 0 {
			first = pt
		}
		n++
		if n > MaxCompoundPackets {
			return 0, fmt.Errorf("%w: more than %d packets", ErrCompound, MaxCompoundPackets)
		}
		off += size
	}
	if n > 1 && first != TypeSR && first != TypeRR {
		return 0, fmt.Errorf("%w: first of %d packets has type %d, want SR (200) or RR (201)", ErrCompound, n, first)
	}
	return n, nil
}

// Decode validates b (see Validate) and parses it with pion/rtcp. Unknown
// packet types come back as *pionrtcp.RawPacket. Errors wrap ErrTooLarge,
// ErrMalformed or ErrCompound. Decode never panics; its allocations are
// bounded by MaxPacketSize.
func Decode(b []byte) ([]pionrtcp.Packet, error) {
	if _, err := Validate(b); err != nil {
		return nil, err
	}
	pkts, err := pionrtcp.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return pkts, nil
}

// Encode marshals packets into one datagram appended to dst.
func Encode(dst []byte, pkts ...pionrtcp.Packet) ([]byte, error) {
	for _, p := range pkts {
		b, err := p.Marshal()
		if err != nil {
			return dst, fmt.Errorf("rtcp: marshal %T: %w", p, err)
		}
		dst = append(dst, b...)
	}
	return dst, nil
}
