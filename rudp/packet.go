package rudp

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Packet is one decoded datagram: the header, the optional sections the
// flags announce and the body its type defines. Decoding fills a caller-
// owned Packet without allocating; byte slices alias the input. The zero
// value is ready for Unmarshal; it is not safe for concurrent use.
type Packet struct {
	Header    Header
	Ack       AckFrame  // when Header.Flags has FlagAck (always for TypeAck)
	FEC       FECTag    // when Header.Flags has FlagFEC (data packets only)
	Data      DataFrame // TypeData
	Handshake Handshake // TypeHello, TypeRetry, TypeAccept
	Reason    uint16    // TypeReset
	// Body is the raw body after the optional sections: the encoded data
	// frame of a TypeData packet (an FEC source symbol) or the opaque
	// payload of a TypeRepair packet. Set by Unmarshal, ignored by AppendTo.
	Body []byte
	// Repair is the payload AppendTo writes for TypeRepair.
	Repair []byte
	// PadTo, if larger than the encoded size, makes AppendTo pad a
	// handshake or ping packet with zeros to PadTo bytes (padded pings are
	// path-MTU probes). Not on the wire.
	PadTo int
}

// MarshalSize returns the encoded size including checksum and padding.
func (p *Packet) MarshalSize() int {
	n := Overhead
	if p.Header.Flags&FlagAck != 0 {
		n += p.Ack.MarshalSize()
	}
	if p.Header.Flags&FlagFEC != 0 {
		n += FECTagSize
	}
	switch p.Header.Type {
	case TypeData:
		n += p.Data.MarshalSize()
	case TypeHello, TypeRetry, TypeAccept:
		n += p.Handshake.MarshalSize()
		n = max(n, p.PadTo)
	case TypePing:
		n = max(n, p.PadTo)
	case TypeReset:
		n += 2
	case TypeRepair:
		n += len(p.Repair)
	}
	return n
}

// padTo appends zeros to b until the packet that starts at start, with its
// checksum, is size bytes long.
func padTo(b []byte, start, size int) []byte {
	for len(b)-start+ChecksumSize < size {
		b = append(b, 0)
	}
	return b
}

// AppendTo appends the encoded packet, sealed with its CRC32-C trailer.
func (p *Packet) AppendTo(b []byte) []byte {
	start := len(b)
	b = p.Header.AppendTo(b)
	if p.Header.Flags&FlagAck != 0 {
		b = p.Ack.AppendTo(b)
	}
	if p.Header.Flags&FlagFEC != 0 {
		b = p.FEC.AppendTo(b)
	}
	switch p.Header.Type {
	case TypeData:
		b = p.Data.AppendTo(b)
	case TypeHello, TypeRetry, TypeAccept:
		b = p.Handshake.AppendTo(b)
		b = padTo(b, start, p.PadTo)
	case TypePing:
		b = padTo(b, start, p.PadTo)
	case TypeReset:
		b = binary.BigEndian.AppendUint16(b, p.Reason)
	case TypeRepair:
		b = append(b, p.Repair...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// Unmarshal verifies the checksum of the whole datagram b and decodes it.
// It returns len(b) on success. Corrupted, truncated, unknown-version and
// inconsistent packets return an error wrapping ErrChecksum, ErrTruncated,
// ErrVersion or ErrMalformed.
func (p *Packet) Unmarshal(b []byte) (int, error) {
	if len(b) < Overhead {
		return 0, fmt.Errorf("%w: packet of %d bytes is below the %d-byte minimum", ErrTruncated, len(b), Overhead)
	}
	body := b[:len(b)-ChecksumSize]
	if want, got := binary.BigEndian.Uint32(b[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return 0, fmt.Errorf("%w: trailer %#08x, computed %#08x", ErrChecksum, want, got)
	}
	off, err := p.Header.Unmarshal(body)
	if err != nil {
		return 0, err
	}
	h := &p.Header
	if h.Type == TypeAck && h.Flags&FlagAck == 0 {
		return 0, fmt.Errorf("%w: ack packet without ack flag", ErrMalformed)
	}
	if h.Flags&FlagAck != 0 && h.Type != TypeAck && h.Type != TypeData && h.Type != TypePing {
		return 0, fmt.Errorf("%w: ack flag on %s packet", ErrMalformed, h.Type)
	}
	if h.Flags&FlagFEC != 0 && h.Type != TypeData {
		return 0, fmt.Errorf("%w: FEC flag on %s packet", ErrMalformed, h.Type)
	}
	if h.Flags&FlagAck != 0 {
		n, err := p.Ack.Unmarshal(body[off:])
		if err != nil {
			return 0, err
		}
		off += n
	}
	if h.Flags&FlagFEC != 0 {
		n, err := p.FEC.Unmarshal(body[off:])
		if err != nil {
			return 0, err
		}
		off += n
	}
	rest := body[off:]
	p.Body = rest
	switch h.Type {
	case TypeData:
		_, err = p.Data.Unmarshal(rest)
	case TypeHello, TypeRetry, TypeAccept:
		_, err = p.Handshake.Unmarshal(rest)
	case TypeReset:
		if len(rest) != 2 {
			err = fmt.Errorf("%w: reset body of %d bytes (want 2)", ErrMalformed, len(rest))
		} else {
			p.Reason = binary.BigEndian.Uint16(rest)
		}
	case TypeAck:
		if len(rest) != 0 {
			err = fmt.Errorf("%w: %d trailing bytes after %s packet", ErrMalformed, len(rest), h.Type)
		}
	case TypePing:
		// Only zero padding (path-MTU probes).
		for i, x := range rest {
			if x != 0 {
				err = fmt.Errorf("%w: ping padding byte %d of %d is %#x, want 0", ErrMalformed, i, len(rest), x)
				break
			}
		}
	case TypeRepair:
		p.Repair = rest
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
