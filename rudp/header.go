package rudp

import (
	"encoding/binary"
	"fmt"
)

// Version is the only wire version this package speaks.
const Version uint8 = 1

// HeaderSize is the size of the fixed packet header in bytes.
const HeaderSize = 26

// ChecksumSize is the size of the CRC32-C trailer in bytes.
const ChecksumSize = 4

// Overhead is the fixed per-packet overhead: header plus checksum.
const Overhead = HeaderSize + ChecksumSize

// PacketType says what the body of a packet holds.
type PacketType uint8

// Packet types. Types not listed are rejected by Unmarshal.
const (
	TypeHello  PacketType = 1 // client → server: hello, then hello echoing the cookie
	TypeRetry  PacketType = 2 // server → client: stateless cookie challenge
	TypeAccept PacketType = 3 // server → client: session established
	TypeData   PacketType = 4 // one data frame
	TypeAck    PacketType = 5 // acknowledgement only
	TypePing   PacketType = 6 // keepalive; ack-eliciting, empty body
	TypeReset  PacketType = 7 // abortive close; body: 16-bit reason code
	TypeRepair PacketType = 8 // FEC repair packet; body opaque to the session
	maxType               = TypeRepair
)

var typeNames = [...]string{"invalid", "hello", "retry", "accept", "data", "ack", "ping", "reset", "repair"}

// String returns the lower-case name of the type.
func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Flags mark optional sections between the header and the body.
type Flags uint8

// Header flags.
const (
	// FlagAck: an AckFrame follows the header (always set on TypeAck;
	// data packets may piggyback one).
	FlagAck Flags = 1 << 0
	// FlagFEC: a 5-byte FECTag follows (the ack frame, if any); set by FEC
	// strategies on data packets that are source symbols of a group.
	FlagFEC    Flags = 1 << 1
	knownFlags       = FlagAck | FlagFEC
)

// Header is the fixed part of every packet. The zero value is not a valid
// header (version 0, type 0). It is a plain value, not safe for concurrent
// mutation.
//
// Timestamp and Echo are microsecond clocks of the sender and of the peer
// (each side's own epoch, 32 bits, wrapping after ~71 minutes). Echo is the
// Timestamp of the newest packet the sender has received, EchoDelay how long
// (in units of 16 µs) it held that packet before sending this one; it is the
// ack delay of RFC 9002 and applies to every packet type, so both sides get
// RTT samples (RFC 7323 style) and retransmissions never poison them.
type Header struct {
	Version      uint8
	Type         PacketType
	Flags        Flags
	ConnID       uint64
	PacketNumber uint32
	Timestamp    uint32
	Echo         uint32
	EchoDelay    uint16
}

// EchoDelayUnit is the unit of Header.EchoDelay.
const EchoDelayUnit = 16 // microseconds

// MarshalSize returns HeaderSize.
func (h *Header) MarshalSize() int { return HeaderSize }

// AppendTo appends the encoded header to b.
func (h *Header) AppendTo(b []byte) []byte {
	b = append(b, h.Version, uint8(h.Type), uint8(h.Flags), 0)
	b = binary.BigEndian.AppendUint64(b, h.ConnID)
	b = binary.BigEndian.AppendUint32(b, h.PacketNumber)
	b = binary.BigEndian.AppendUint32(b, h.Timestamp)
	b = binary.BigEndian.AppendUint32(b, h.Echo)
	return binary.BigEndian.AppendUint16(b, h.EchoDelay)
}

// Unmarshal decodes the header from the start of b and returns the number
// of bytes read. It rejects other versions, unknown types and flags.
func (h *Header) Unmarshal(b []byte) (int, error) {
	if len(b) < HeaderSize {
		return 0, fmt.Errorf("%w: header needs %d bytes, have %d", ErrTruncated, HeaderSize, len(b))
	}
	if b[0] != Version {
		return 0, fmt.Errorf("%w: version %d (want %d)", ErrVersion, b[0], Version)
	}
	t := PacketType(b[1])
	if t == 0 || t > maxType {
		return 0, fmt.Errorf("%w: packet type %d", ErrMalformed, b[1])
	}
	f := Flags(b[2])
	if f&^knownFlags != 0 {
		return 0, fmt.Errorf("%w: unknown flags %#x", ErrMalformed, uint8(f))
	}
	if b[3] != 0 {
		return 0, fmt.Errorf("%w: reserved byte %#x is not zero", ErrMalformed, b[3])
	}
	h.Version, h.Type, h.Flags = b[0], t, f
	h.ConnID = binary.BigEndian.Uint64(b[4:])
	h.PacketNumber = binary.BigEndian.Uint32(b[12:])
	h.Timestamp = binary.BigEndian.Uint32(b[16:])
	h.Echo = binary.BigEndian.Uint32(b[20:])
	h.EchoDelay = binary.BigEndian.Uint16(b[24:])
	return HeaderSize, nil
}

// PeekConnID returns the connection ID and type of a datagram without
// verifying it, for demultiplexing; ok is false if b is too short or of
// another version.
func PeekConnID(b []byte) (id uint64, t PacketType, ok bool) {
	if len(b) < Overhead || b[0] != Version {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[4:]), PacketType(b[1]), true
}

// FECTagSize is the encoded size of an FECTag.
const FECTagSize = 5

// FECTag marks a data packet as source symbol Index of FEC group Group. The
// session does not interpret it; it carries it for the strategy.
type FECTag struct {
	Group uint32
	Index uint8
}

// AppendTo appends the encoded tag to b.
func (t *FECTag) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, t.Group)
	return append(b, t.Index)
}

// Unmarshal decodes the tag from the start of b.
func (t *FECTag) Unmarshal(b []byte) (int, error) {
	if len(b) < FECTagSize {
		return 0, fmt.Errorf("%w: FEC tag needs %d bytes, have %d", ErrTruncated, FECTagSize, len(b))
	}
	t.Group = binary.BigEndian.Uint32(b)
	t.Index = b[4]
	return FECTagSize, nil
}
