package rtp

import (
	"encoding/binary"
	"fmt"

	pionrtp "github.com/pion/rtp"
)

// RTP fixed header (RFC 3550 §5.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|X|  CC   |M|     PT      |       sequence number         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           timestamp                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           synchronization source (SSRC) identifier            |
//	+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//	|            contributing source (CSRC) identifiers             |
//	|                             ....                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// MaxPacketSize is the largest RTP datagram Decode accepts.
const MaxPacketSize = 1500

const fixedHeaderSize = 12

// Validate checks an RTP datagram's framing before it is parsed: size bound,
// version 2, CSRC list, extension header and length, and padding count. It
// returns the header length (fixed header, CSRCs and extension).
func Validate(b []byte) (int, error) {
	if len(b) > MaxPacketSize {
		return 0, fmt.Errorf("%w: %d bytes > %d", ErrMalformed, len(b), MaxPacketSize)
	}
	if len(b) < fixedHeaderSize {
		return 0, fmt.Errorf("%w: %d bytes is shorter than the fixed header", ErrMalformed, len(b))
	}
	if v := b[0] >> 6; v != 2 {
		return 0, fmt.Errorf("%w: version %d, want 2", ErrMalformed, v)
	}
	n := fixedHeaderSize + 4*int(b[0]&0x0F)
	if n > len(b) {
		return 0, fmt.Errorf("%w: CSRC count %d needs %d bytes, have %d", ErrMalformed, b[0]&0x0F, n, len(b))
	}
	if b[0]&0x10 != 0 {
		if n+4 > len(b) {
			return 0, fmt.Errorf("%w: extension header needs %d bytes, have %d", ErrMalformed, n+4, len(b))
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
		if n > len(b) {
			return 0, fmt.Errorf("%w: extension length needs %d bytes, have %d", ErrMalformed, n, len(b))
		}
	}
	if b[0]&0x20 != 0 {
		pad := int(b[len(b)-1])
		if pad == 0 || pad > len(b)-n {
			return 0, fmt.Errorf("%w: padding count %d with %d bytes after a %d-byte header", ErrMalformed, pad, len(b)-n, n)
		}
	}
	return n, nil
}

// Decode validates b and parses it into p with pion/rtp. p's Payload and
// extension payloads alias b. Reusing p across calls avoids allocation
// (the CSRC and extension slices are reused). Errors wrap ErrMalformed.
func Decode(b []byte, p *pionrtp.Packet) error {
	if _, err := Validate(b); err != nil {
		return err
	}
	if err := p.Unmarshal(b); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// DescriptorOf returns the frame descriptor carried in p under extension id.
func DescriptorOf(p *pionrtp.Packet, id uint8) (Descriptor, error) {
	var d Descriptor
	ext := p.GetExtension(id)
	if ext == nil {
		return d, fmt.Errorf("%w: extension %d missing", ErrDescriptor, id)
	}
	_, err := d.Unmarshal(ext)
	return d, err
}
