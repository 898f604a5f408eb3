package arp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Packet is an ARP packet for Ethernet and IPv4 (RFC 826):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Hardware Type (1)      |     Protocol Type (0x0800)    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HW Len (6)   | Proto Len (4) |   Opcode (1 request, 2 reply) |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Sender Hardware Address (6)                  |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |  Sender Protocol Address (4)  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                  Target Hardware Address (6)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Target Protocol Address (4)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// HardwareType, ProtocolType and the two lengths are fixed by this package
// (Ethernet, IPv4, 6, 4): AppendTo writes them, Unmarshal checks them. The
// zero value is an invalid opcode 0 packet; a Packet is a plain value, safe
// to copy, not safe for concurrent mutation. Decoding does not allocate.
type Packet struct {
	Op                 uint16 // OpRequest or OpReply
	SenderHW, TargetHW [6]byte
	SenderIP, TargetIP netip.Addr
}

// Field values and sizes.
const (
	HardwareEthernet uint16 = 1
	ProtocolIPv4     uint16 = 0x0800
	OpRequest        uint16 = 1
	OpReply          uint16 = 2
	PacketLen               = 28 // Ethernet/IPv4 ARP packet without link padding
)

// Errors returned by Unmarshal, wrapped with the field and value.
var (
	ErrTruncated   = errors.New("arp: truncated")
	ErrUnsupported = errors.New("arp: unsupported hardware or protocol")
	ErrOp          = errors.New("arp: bad opcode")
)

// MarshalSize returns PacketLen.
func (p *Packet) MarshalSize() int { return PacketLen }

// AppendTo appends the encoded packet to b. Non-IPv4 addresses are written as 0.0.0.0.
func (p *Packet) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, HardwareEthernet)
	b = binary.BigEndian.AppendUint16(b, ProtocolIPv4)
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, p.Op)
	b = append(b, p.SenderHW[:]...)
	b = appendIP(b, p.SenderIP)
	b = append(b, p.TargetHW[:]...)
	return appendIP(b, p.TargetIP)
}

func appendIP(b []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return append(b, 0, 0, 0, 0)
	}
	v := a.As4()
	return append(b, v[:]...)
}

// Unmarshal decodes an Ethernet/IPv4 ARP request or reply from the start of
// b (trailing link padding is ignored) and returns PacketLen.
func (p *Packet) Unmarshal(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("%w: %d bytes, need 8 for the fixed header", ErrTruncated, len(b))
	}
	htype, ptype := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if htype != HardwareEthernet || ptype != ProtocolIPv4 || b[4] != 6 || b[5] != 4 {
		return 0, fmt.Errorf("%w: hardware type %d, protocol type 0x%04x, lengths %d/%d", ErrUnsupported, htype, ptype, b[4], b[5])
	}
	if len(b) < PacketLen {
		return 0, fmt.Errorf("%w: %d bytes, need %d", ErrTruncated, len(b), PacketLen)
	}
	op := binary.BigEndian.Uint16(b[6:])
	if op != OpRequest && op != OpReply {
		return 0, fmt.Errorf("%w: %d", ErrOp, op)
	}
	p.Op = op
	p.SenderHW = [6]byte(b[8:14])
	p.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	p.TargetHW = [6]byte(b[18:24])
	p.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return PacketLen, nil
}

// Request returns the request "who has target? tell senderIP at senderHW".
func Request(senderHW [6]byte, senderIP, target netip.Addr) Packet {
	return Packet{Op: OpRequest, SenderHW: senderHW, SenderIP: senderIP, TargetIP: target}
}

// ReplyTo returns the reply to request req announcing hw as the address of
// req.TargetIP.
func ReplyTo(req *Packet, hw [6]byte) Packet {
	return Packet{Op: OpReply, SenderHW: hw, SenderIP: req.TargetIP, TargetHW: req.SenderHW, TargetIP: req.SenderIP}
}

// HardwareAddr returns a copy of a 6-byte address as a net.HardwareAddr.
func HardwareAddr(a [6]byte) net.HardwareAddr { return append(net.HardwareAddr(nil), a[:]...) }
