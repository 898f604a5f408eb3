package ipv4

import (
	"encoding/binary"
	"net/netip"
)

// Checksum returns the RFC 1071 one's-complement sum of b, folded to 16 bits
// and added to initial (a sum from an earlier call, e.g. PseudoHeaderSum). It
// is not complemented: the checksum field to write is ^Checksum(...), and a
// buffer that includes a correct checksum sums to 0xffff.
//
// An odd trailing byte is padded with a zero byte on the right, as RFC 1071 says.
func Checksum(b []byte, initial uint16) uint16 {
	sum := uint64(initial)
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		sum += v >> 32
		sum += v & 0xffffffff
		b = b[8:]
	}
	for len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = (sum & 0xffff) + (sum >> 16)
	}
	return uint16(sum)
}

// PseudoHeaderSum returns the one's-complement sum of the IPv4 pseudo-header
// used by TCP and UDP checksums (RFC 793 §3.1, RFC 768): source and destination
// address, zero, protocol, and the transport length (header plus payload).
// Non-IPv4 addresses count as 0.0.0.0.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length uint16) uint16 {
	var ph [12]byte
	if src.Is4() {
		s := src.As4()
		copy(ph[0:4], s[:])
	}
	if dst.Is4() {
		d := dst.As4()
		copy(ph[4:8], d[:])
	}
	ph[9] = proto
	binary.BigEndian.PutUint16(ph[10:], length)
	return Checksum(ph[:], 0)
}

// TransportChecksum returns the checksum to store in a TCP or UDP header:
// the complement of the sum over the pseudo-header and segment. The segment's
// own checksum field must be zero when this is called. For UDP a result of 0
// must be sent as 0xffff (RFC 768); TCP sends it as is.
func TransportChecksum(src, dst netip.Addr, proto uint8, segment []byte) uint16 {
	return ^Checksum(segment, PseudoHeaderSum(src, dst, proto, uint16(len(segment))))
}

// VerifyTransportChecksum reports whether a received TCP or UDP segment
// (checksum field included) carries a correct checksum for src, dst and proto.
func VerifyTransportChecksum(src, dst netip.Addr, proto uint8, segment []byte) bool {
	return Checksum(segment, PseudoHeaderSum(src, dst, proto, uint16(len(segment)))) == 0xffff
}
