package icmp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// Message types (RFC 792).
const (
	TypeEchoReply       uint8 = 0
	TypeDestUnreachable uint8 = 3
	TypeEcho            uint8 = 8
	TypeTimeExceeded    uint8 = 11
)

// Destination unreachable codes (RFC 792, RFC 1191) and time exceeded codes.
const (
	CodeNetUnreachable     uint8 = 0
	CodeHostUnreachable    uint8 = 1
	CodeProtoUnreachable   uint8 = 2
	CodePortUnreachable    uint8 = 3
	CodeFragNeeded         uint8 = 4
	CodeTTLExceeded        uint8 = 0
	CodeReassemblyExceeded uint8 = 1
	HeaderLen                    = 8 // type, code, checksum, 4 type-specific bytes
)

// Errors returned by the decoders, wrapped with the field and value.
var (
	ErrTruncated = errors.New("icmp: truncated")
	ErrChecksum  = errors.New("icmp: bad checksum")
	ErrType      = errors.New("icmp: unexpected type")
)

// Checksum returns the ICMP checksum of msg (whose checksum field must be zero).
func Checksum(msg []byte) uint16 { return ^ipv4.Checksum(msg, 0) }

// VerifyChecksum reports whether msg (checksum included) sums correctly.
func VerifyChecksum(msg []byte) bool { return ipv4.Checksum(msg, 0) == 0xffff }

// TypeOf returns the type and code of the ICMP message in b after checking
// its length and checksum.
func TypeOf(b []byte) (typ, code uint8, err error) {
	if len(b) < HeaderLen {
		return 0, 0, fmt.Errorf("%w: %d bytes, need %d", ErrTruncated, len(b), HeaderLen)
	}
	if !VerifyChecksum(b) {
		return 0, 0, fmt.Errorf("%w: 0x%04x", ErrChecksum, binary.BigEndian.Uint16(b[2:]))
	}
	return b[0], b[1], nil
}

// finish writes the checksum of the message starting at b[start:].
func finish(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start+2:], 0)
	binary.BigEndian.PutUint16(b[start+2:], Checksum(b[start:]))
	return b
}
