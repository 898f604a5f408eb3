package icmp

import (
	"fmt"
	"net/netip"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// AppendPacket appends an IPv4 packet (no options, DF clear) carrying the
// ICMP message msg from src to dst to b.
func AppendPacket(b []byte, src, dst netip.Addr, ipID uint16, ttl uint8, msg []byte) []byte {
	return append(appendIPHeader(b, src, dst, ipID, ttl, len(msg)), msg...)
}

func appendIPHeader(b []byte, src, dst netip.Addr, ipID uint16, ttl uint8, msgLen int) []byte {
	h := ipv4.Header{TotalLength: uint16(ipv4.MinHeaderLen + msgLen), ID: ipID, TTL: ttl,
		Protocol: ipv4.ProtocolICMP, Src: src, Dst: dst}
	return h.AppendTo(b)
}

// Responder answers ICMP echo requests addressed to Addr, for a user-space
// stack that owns an address (typically behind a TUN device). The zero value
// answers nothing (no address); set Addr. TTL 0 means 64. Not safe for
// concurrent use.
type Responder struct {
	Addr netip.Addr
	TTL  uint8

	ipID     uint16
	answered uint64
}

// Answered returns how many echo requests Respond has answered.
func (r *Responder) Answered() uint64 { return r.answered }

// Respond inspects one IPv4 packet. If it is an unfragmented echo request to
// r.Addr with correct checksums, it appends the echo reply packet (same ID,
// sequence and data) to out and returns it with ok true. Anything else
// returns out unchanged and ok false; err says why a packet addressed to us
// that looked like ICMP was refused (nil for packets that are simply not
// for the responder).
func (r *Responder) Respond(pkt, out []byte) (reply []byte, ok bool, err error) {
	var h ipv4.Header
	if _, err := h.Unmarshal(pkt); err != nil {
		return out, false, nil
	}
	if h.Dst != r.Addr || h.Protocol != ipv4.ProtocolICMP || h.IsFragment() {
		return out, false, nil
	}
	msg, err := h.Payload(pkt)
	if err != nil {
		return out, false, fmt.Errorf("icmp: request from %s: %w", h.Src, err)
	}
	var e Echo
	if _, err := e.Unmarshal(msg); err != nil {
		if len(msg) > 0 && msg[0] != TypeEcho {
			return out, false, nil
		}
		return out, false, fmt.Errorf("icmp: request from %s: %w", h.Src, err)
	}
	if e.Type != TypeEcho {
		return out, false, nil
	}
	e.Type = TypeEchoReply
	ttl := r.TTL
	if ttl == 0 {
		ttl = 64
	}
	r.ipID++
	r.answered++
	out = appendIPHeader(out, r.Addr, h.Src, r.ipID, ttl, e.MarshalSize())
	return e.AppendTo(out), true, nil
}
