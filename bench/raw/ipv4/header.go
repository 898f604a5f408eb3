package ipv4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Header is an IPv4 header (RFC 791 §3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |   DSCP    |ECN|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The zero value is not a valid header to send (TTL 0, no addresses); fill it
// in or use Unmarshal. A Header is a plain value: not safe for concurrent
// mutation, safe to copy. Options are held inline (no allocation, no aliasing
// of the decoded buffer).
type Header struct {
	TOS            uint8      // DSCP (upper 6 bits) and ECN (lower 2 bits); see DSCP, ECN
	TotalLength    uint16     // header plus payload, in bytes; AppendTo writes it as given
	ID             uint16     // identification, shared by all fragments of a datagram
	Flags          uint8      // FlagDF | FlagMF (the reserved bit is rejected on decode)
	FragmentOffset uint16     // offset of this fragment's payload, in 8-byte units (13 bits)
	TTL            uint8      // time to live
	Protocol       uint8      // ProtocolICMP, ProtocolTCP, ProtocolUDP, ...
	Checksum       uint16     // as decoded; AppendTo computes and writes a fresh one and sets this field
	Src, Dst       netip.Addr // IPv4 addresses
	options        [MaxOptionsLen]byte
	optionsLen     uint8
}

// Protocol constants and sizes.
const (
	ProtocolICMP = 1
	ProtocolTCP  = 6
	ProtocolUDP  = 17

	MinHeaderLen  = 20    // header without options
	MaxHeaderLen  = 60    // IHL 15
	MaxOptionsLen = 40    // MaxHeaderLen - MinHeaderLen
	MaxTotalLen   = 65535 // largest datagram
	MaxFragOffset = 8191  // 13 bits, in 8-byte units

	FlagDF  uint8 = 0x2 // don't fragment
	FlagMF  uint8 = 0x1 // more fragments
	flagRsv uint8 = 0x4
)

// Errors returned by Unmarshal and AppendTo; each is wrapped with the field and value.
var (
	ErrTruncated = errors.New("ipv4: truncated")
	ErrVersion   = errors.New("ipv4: not version 4")
	ErrHeaderLen = errors.New("ipv4: bad header length")
	ErrTotalLen  = errors.New("ipv4: bad total length")
	ErrChecksum  = errors.New("ipv4: bad header checksum")
	ErrFlags     = errors.New("ipv4: reserved flag set")
	ErrOptions   = errors.New("ipv4: bad options")
	ErrAddress   = errors.New("ipv4: address is not IPv4")
)

// DSCP returns the differentiated services code point (RFC 2474).
func (h *Header) DSCP() uint8 { return h.TOS >> 2 }

// ECN returns the ECN field (RFC 3168).
func (h *Header) ECN() uint8 { return h.TOS & 3 }

// SetDSCPECN sets the TOS byte from a DSCP (6 bits) and ECN (2 bits) value.
func (h *Header) SetDSCPECN(dscp, ecn uint8) { h.TOS = dscp<<2 | ecn&3 }

// DF reports whether the don't-fragment flag is set.
func (h *Header) DF() bool { return h.Flags&FlagDF != 0 }

// MF reports whether the more-fragments flag is set.
func (h *Header) MF() bool { return h.Flags&FlagMF != 0 }

// IsFragment reports whether the header belongs to a fragmented datagram.
func (h *Header) IsFragment() bool { return h.MF() || h.FragmentOffset != 0 }

// IHL returns the header length in 32-bit words.
func (h *Header) IHL() int { return h.MarshalSize() / 4 }

// Options returns the options bytes (padded to a multiple of 4). The slice
// aliases h; copy it to keep it past the next change to h.
func (h *Header) Options() []byte { return h.options[:h.optionsLen] }

// SetOptions sets the options, padding them with zero (end-of-option-list)
// bytes to a multiple of 4.
func (h *Header) SetOptions(opts []byte) error {
	n := (len(opts) + 3) &^ 3
	if n > MaxOptionsLen {
		return fmt.Errorf("%w: %d option bytes exceed %d", ErrOptions, len(opts), MaxOptionsLen)
	}
	h.options = [MaxOptionsLen]byte{}
	copy(h.options[:], opts)
	h.optionsLen = uint8(n)
	return nil
}

// MarshalSize returns the encoded header length: 20 plus the padded options.
func (h *Header) MarshalSize() int { return MinHeaderLen + int(h.optionsLen) }

// PayloadLen returns TotalLength minus the header length (0 if negative).
func (h *Header) PayloadLen() int {
	n := int(h.TotalLength) - h.MarshalSize()
	if n < 0 {
		return 0
	}
	return n
}

// Unmarshal decodes the header at the start of b into h and returns the header
// length. It checks version, IHL, the reserved flag, the fragment offset bound
// and the header checksum; it checks that TotalLength is at least the header
// length but not that b holds the whole datagram (an ICMP error quotes only
// the start of one): use Payload for that. It never allocates.
func (h *Header) Unmarshal(b []byte) (int, error) {
	if len(b) < MinHeaderLen {
		return 0, fmt.Errorf("%w: header needs %d bytes, have %d", ErrTruncated, MinHeaderLen, len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return 0, fmt.Errorf("%w: version %d", ErrVersion, v)
	}
	hl := int(b[0]&0xf) * 4
	if hl < MinHeaderLen {
		return 0, fmt.Errorf("%w: IHL %d (< 5)", ErrHeaderLen, hl/4)
	}
	if len(b) < hl {
		return 0, fmt.Errorf("%w: IHL %d needs %d bytes, have %d", ErrTruncated, hl/4, hl, len(b))
	}
	tl := binary.BigEndian.Uint16(b[2:])
	if int(tl) < hl {
		return 0, fmt.Errorf("%w: total length %d < header length %d", ErrTotalLen, tl, hl)
	}
	if Checksum(b[:hl], 0) != 0xffff {
		return 0, fmt.Errorf("%w: 0x%04x", ErrChecksum, binary.BigEndian.Uint16(b[10:]))
	}
	ff := binary.BigEndian.Uint16(b[6:])
	flags := uint8(ff >> 13)
	if flags&flagRsv != 0 {
		return 0, fmt.Errorf("%w: flags 0x%x", ErrFlags, flags)
	}
	h.TOS = b[1]
	h.TotalLength = tl
	h.ID = binary.BigEndian.Uint16(b[4:])
	h.Flags = flags
	h.FragmentOffset = ff & 0x1fff
	h.TTL = b[8]
	h.Protocol = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:])
	h.Src = netip.AddrFrom4([4]byte(b[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	h.options = [MaxOptionsLen]byte{}
	h.optionsLen = uint8(copy(h.options[:], b[MinHeaderLen:hl]))
	return hl, nil
}

// Payload returns the datagram payload b[headerLen:TotalLength] for a header
// just decoded from b, or ErrTruncated if b is shorter than TotalLength.
// Bytes past TotalLength (link padding) are ignored.
func (h *Header) Payload(b []byte) ([]byte, error) {
	hl, tl := h.MarshalSize(), int(h.TotalLength)
	if len(b) < tl {
		return nil, fmt.Errorf("%w: total length %d, have %d bytes", ErrTruncated, tl, len(b))
	}
	if tl < hl {
		return nil, fmt.Errorf("%w: total length %d < header length %d", ErrTotalLen, tl, hl)
	}
	return b[hl:tl], nil
}

// Validate reports whether h can be encoded as given: IPv4 addresses, a
// 13-bit fragment offset, no reserved flag, TotalLength at least the header.
func (h *Header) Validate() error {
	if !h.Src.Is4() || !h.Dst.Is4() {
		return fmt.Errorf("%w: src %v dst %v", ErrAddress, h.Src, h.Dst)
	}
	if h.FragmentOffset > MaxFragOffset {
		return fmt.Errorf("ipv4: fragment offset %d exceeds %d", h.FragmentOffset, MaxFragOffset)
	}
	if h.Flags&^(FlagDF|FlagMF) != 0 {
		return fmt.Errorf("%w: flags 0x%x", ErrFlags, h.Flags)
	}
	if hl := h.MarshalSize(); int(h.TotalLength) < hl {
		return fmt.Errorf("%w: total length %d < header length %d", ErrTotalLen, h.TotalLength, hl)
	}
	return nil
}

// AppendTo appends the encoded header (MarshalSize bytes) to b, computing the
// checksum, which it also stores in h.Checksum. It writes TotalLength as given:
// set it to MarshalSize()+len(payload) first. Out-of-range fields are masked
// to their wire width (non-IPv4 addresses become 0.0.0.0); call Validate first
// to reject them instead.
func (h *Header) AppendTo(b []byte) []byte {
	start := len(b)
	b = append(b, byte(0x40|h.MarshalSize()/4), h.TOS)
	b = binary.BigEndian.AppendUint16(b, h.TotalLength)
	b = binary.BigEndian.AppendUint16(b, h.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Flags&(FlagDF|FlagMF))<<13|h.FragmentOffset&MaxFragOffset)
	b = append(b, h.TTL, h.Protocol, 0, 0)
	b = appendAddr4(b, h.Src)
	b = appendAddr4(b, h.Dst)
	b = append(b, h.options[:h.optionsLen]...)
	h.Checksum = ^Checksum(b[start:], 0)
	binary.BigEndian.PutUint16(b[start+10:], h.Checksum)
	return b
}

func appendAddr4(b []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return append(b, 0, 0, 0, 0)
	}
	v := a.As4()
	return append(b, v[:]...)
}

// VerifyHeaderChecksum reports whether the IPv4 header at the start of b has a
// correct checksum (false if b is too short for its IHL).
func VerifyHeaderChecksum(b []byte) bool {
	if len(b) < MinHeaderLen {
		return false
	}
	hl := int(b[0]&0xf) * 4
	if hl < MinHeaderLen || len(b) < hl {
		return false
	}
	return Checksum(b[:hl], 0) == 0xffff
}
