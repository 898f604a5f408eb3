package netem

import (
	"encoding/binary"
	"io"
	"net/netip"
	"sync"
	"time"
)

// pcap file constants (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
const (
	pcapMagicNano  = 0xa1b23c4d // nanosecond timestamps
	pcapSnapLen    = 65535
	linkTypeRaw    = 101 // LINKTYPE_RAW: packets begin with an IPv4 or IPv6 header
	pcapRecordHdr  = 16
	ipv4HeaderLen  = 20
	ipv6HeaderLen  = 40
	udpHeaderLen   = 8
	ipProtoUDP     = 17
	pcapFileHdrLen = 24
)

// pcapWriter writes a pcap stream. Safe for concurrent use; after the first
// write error it stops writing.
type pcapWriter struct {
	mu      sync.Mutex
	w       io.Writer
	scratch []byte
	err     error
}

func newPcapWriter(w io.Writer) (*pcapWriter, error) {
	var h [pcapFileHdrLen]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNano)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], linkTypeRaw)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &pcapWriter{w: w, scratch: make([]byte, 0, 2048)}, nil
}

// write records one packet at time t. When md carries addresses, payload is
// a UDP datagram and gets a synthesised IP+UDP header; otherwise it is
// written as is.
func (pw *pcapWriter) write(t time.Time, payload []byte, md *meta) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.err != nil {
		return
	}
	b := pw.scratch[:0]
	b = append(b, make([]byte, pcapRecordHdr)...)
	if md != nil && md.src.IsValid() && md.dst.IsValid() {
		b = appendIPUDP(b, md.src, md.dst, payload)
	} else {
		b = append(b, payload...)
	}
	orig := len(b) - pcapRecordHdr
	incl := min(orig, pcapSnapLen)
	b = b[:pcapRecordHdr+incl]
	ns := t.UnixNano()
	binary.LittleEndian.PutUint32(b[0:], uint32(ns/1e9))
	binary.LittleEndian.PutUint32(b[4:], uint32(ns%1e9))
	binary.LittleEndian.PutUint32(b[8:], uint32(incl))
	binary.LittleEndian.PutUint32(b[12:], uint32(orig))
	_, pw.err = pw.w.Write(b)
	pw.scratch = b[:0]
}

// appendIPUDP appends an IPv4 (both addresses IPv4) or IPv6 header, a UDP
// header and the payload.
func appendIPUDP(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	udpLen := udpHeaderLen + len(payload)
	start := len(b)
	if s.Is4() && d.Is4() {
		total := min(ipv4HeaderLen+udpLen, 0xffff)
		b = append(b, 0x45, 0, byte(total>>8), byte(total), 0, 0, 0x40, 0, 64, ipProtoUDP, 0, 0)
		s4, d4 := s.As4(), d.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
		binary.BigEndian.PutUint16(b[start+10:], ^onesSum(0, b[start:start+ipv4HeaderLen]))
		b = appendUDP(b, src.Port(), dst.Port(), udpLen, payload)
		return b // UDP checksum 0: "not computed", valid over IPv4
	}
	b = append(b, 0x60, 0, 0, 0, byte(udpLen>>8), byte(udpLen), ipProtoUDP, 64)
	s16, d16 := s.As16(), d.As16()
	b = append(b, s16[:]...)
	b = append(b, d16[:]...)
	u := len(b)
	b = appendUDP(b, src.Port(), dst.Port(), udpLen, payload)
	// IPv6 requires the UDP checksum: pseudo-header + UDP header + payload.
	sum := onesSum(0, s16[:])
	sum = onesSum(sum, d16[:])
	sum = onesSum(sum, []byte{0, 0, byte(udpLen >> 8), byte(udpLen), 0, 0, 0, ipProtoUDP})
	sum = onesSum(sum, b[u:])
	c := ^sum
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[u+6:], c)
	return b
}

func appendUDP(b []byte, sport, dport uint16, udpLen int, payload []byte) []byte {
	l := min(udpLen, 0xffff)
	b = append(b, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport), byte(l>>8), byte(l), 0, 0)
	return append(b, payload...)
}

// onesSum folds b into the 16-bit ones' complement sum s (RFC 1071).
func onesSum(s uint16, b []byte) uint16 {
	acc := uint32(s)
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return uint16(acc)
}
