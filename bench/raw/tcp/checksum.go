package tcp

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// SetChecksum computes the checksum of segment (an encoded header followed
// by its payload) sent from src to dst, using the IPv4 pseudo-header, and
// writes it into the header's checksum field. segment must be at least
// HeaderLen bytes.
func SetChecksum(segment []byte, src, dst netip.Addr) {
	if len(segment) < HeaderLen {
		return
	}
	segment[16], segment[17] = 0, 0
	binary.BigEndian.PutUint16(segment[16:], ipv4.TransportChecksum(src, dst, ipv4.ProtocolTCP, segment))
}

// VerifyChecksum checks the checksum of a received segment from src to dst;
// it returns an error wrapping ErrChecksum when it is wrong.
func VerifyChecksum(segment []byte, src, dst netip.Addr) error {
	if len(segment) < HeaderLen {
		return fmt.Errorf("%w: %d bytes, need %d", ErrShortSegment, len(segment), HeaderLen)
	}
	if !ipv4.VerifyTransportChecksum(src, dst, ipv4.ProtocolTCP, segment) {
		return fmt.Errorf("%w: 0x%04x for %v > %v", ErrChecksum, binary.BigEndian.Uint16(segment[16:]), src, dst)
	}
	return nil
}
