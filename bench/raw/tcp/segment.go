package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// HeaderLen is the length of a TCP header without options.
const HeaderLen = 20

// MaxHeaderLen is the largest TCP header (data offset 15).
const MaxHeaderLen = 60

// Errors returned by the segment codec; they are wrapped with %w by errors
// that name the field and value.
var (
	ErrShortSegment   = errors.New("tcp: segment too short")
	ErrDataOffset     = errors.New("tcp: bad data offset")
	ErrOptionLength   = errors.New("tcp: bad option length")
	ErrTooManyOptions = errors.New("tcp: options do not fit in 40 bytes")
	ErrChecksum       = errors.New("tcp: bad checksum")
)

// Flags are the TCP control bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
type Flags uint8

// The control bits.
const (
	FlagFIN Flags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether every bit of f2 is set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// String renders the flags as "SYN|ACK".
func (f Flags) String() string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Header is a TCP header (RFC 9293 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           [Options]                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The data offset is not stored: AppendTo derives it from the options, and
// Unmarshal returns it as the header length. The zero value is a header with
// no flags and no options. A Header is a plain value; it is not safe for
// concurrent mutation.
type Header struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            Flags
	Window           uint16
	// Checksum is the value read by Unmarshal; AppendTo writes it as is
	// (use SetChecksum on the finished segment).
	Checksum uint16
	Urgent   uint16
	Options  Options
}

// MarshalSize returns the encoded header length, options included and padded
// to a multiple of 4 bytes.
func (h *Header) MarshalSize() int { return HeaderLen + h.Options.MarshalSize() }

// AppendTo appends the encoded header to b. Options that do not fit in 40
// bytes are truncated at the SACK blocks (see Options.MarshalSize).
func (h *Header) AppendTo(b []byte) []byte {
	size := h.MarshalSize()
	b = binary.BigEndian.AppendUint16(b, h.SrcPort)
	b = binary.BigEndian.AppendUint16(b, h.DstPort)
	b = binary.BigEndian.AppendUint32(b, h.Seq)
	b = binary.BigEndian.AppendUint32(b, h.Ack)
	b = append(b, byte(size/4)<<4, byte(h.Flags))
	b = binary.BigEndian.AppendUint16(b, h.Window)
	b = binary.BigEndian.AppendUint16(b, h.Checksum)
	b = binary.BigEndian.AppendUint16(b, h.Urgent)
	return h.Options.appendTo(b)
}

// Unmarshal decodes the header at the start of b into h and returns the
// header length (data offset × 4); the payload is b[n:]. It does not verify
// the checksum (that needs the IP addresses: see VerifyChecksum). It does not
// allocate. Malformed input (short segment, data offset below 5 or beyond
// the segment, bad option lengths) returns an error and leaves h partly
// written.
func (h *Header) Unmarshal(b []byte) (int, error) {
	if len(b) < HeaderLen {
		return 0, fmt.Errorf("%w: %d bytes, need %d", ErrShortSegment, len(b), HeaderLen)
	}
	off := int(b[12]>>4) * 4
	if off < HeaderLen {
		return 0, fmt.Errorf("%w: data offset %d words is below 5", ErrDataOffset, off/4)
	}
	if off > len(b) {
		return 0, fmt.Errorf("%w: data offset %d bytes exceeds segment length %d", ErrDataOffset, off, len(b))
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:])
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Seq = binary.BigEndian.Uint32(b[4:])
	h.Ack = binary.BigEndian.Uint32(b[8:])
	h.Flags = Flags(b[13])
	h.Window = binary.BigEndian.Uint16(b[14:])
	h.Checksum = binary.BigEndian.Uint16(b[16:])
	h.Urgent = binary.BigEndian.Uint16(b[18:])
	if err := h.Options.unmarshal(b[HeaderLen:off]); err != nil {
		return 0, err
	}
	return off, nil
}

// SegmentLen returns the sequence space a segment with this header and a
// payload of n bytes occupies (SYN and FIN count one each).
func (h *Header) SegmentLen(n int) uint32 {
	l := uint32(n)
	if h.Flags&FlagSYN != 0 {
		l++
	}
	if h.Flags&FlagFIN != 0 {
		l++
	}
	return l
}

// String renders the header for logs and test failures.
func (h *Header) String() string {
	return fmt.Sprintf("%d>%d %s seq=%d ack=%d win=%d %s", h.SrcPort, h.DstPort, h.Flags, h.Seq, h.Ack, h.Window, h.Options.String())
}
