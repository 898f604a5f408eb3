package tcp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// ErrLinkClosed is returned by a Link's methods after Close.
var ErrLinkClosed = errors.New("tcp: link closed")

// Link carries whole IPv4 packets between a Stack and the rest of the
// network: the Stack writes the packets it builds and reads the packets it
// receives. Implementations must be safe for one writer and one reader
// goroutine at a time, and Close must unblock a pending ReadPacket.
type Link interface {
	// WritePacket sends one IPv4 packet; it must not retain pkt.
	WritePacket(pkt []byte) error
	// ReadPacket blocks until a packet arrives, copies it into buf and
	// returns its length. After Close it returns an error.
	ReadPacket(buf []byte) (int, error)
	// MTU is the largest packet the link carries, in bytes.
	MTU() int
	// Close releases the link and unblocks ReadPacket.
	Close() error
}

// packetConnLink carries each IPv4 packet as one datagram of a
// net.PacketConn to a fixed peer address.
type packetConnLink struct {
	pc   net.PacketConn
	peer net.Addr
	ap   netip.AddrPort
	mtu  int
}

// addrPortPacketConn is the allocation-free path of netem.Conn and *net.UDPConn.
type addrPortPacketConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// NewPacketConnLink returns a Link that sends every IPv4 packet as one
// datagram on pc to peer and reads packets from pc (datagrams from other
// addresses are ignored). With two netem Conns on an in-memory network it
// lets two Stacks talk across an emulated, impaired path without root.
// mtu bounds the IP packets (1500 if zero). Close closes pc.
func NewPacketConnLink(pc net.PacketConn, peer net.Addr, mtu int) (Link, error) {
	if mtu == 0 {
		mtu = 1500
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("tcp: link MTU %d out of range [68, 65535]", mtu)
	}
	l := &packetConnLink{pc: pc, peer: peer, mtu: mtu}
	if ua, ok := peer.(*net.UDPAddr); ok {
		l.ap = ua.AddrPort()
	}
	return l, nil
}

func (l *packetConnLink) WritePacket(pkt []byte) error {
	if a, ok := l.pc.(addrPortPacketConn); ok && l.ap.IsValid() {
		_, err := a.WriteToUDPAddrPort(pkt, l.ap)
		return err
	}
	_, err := l.pc.WriteTo(pkt, l.peer)
	return err
}

func (l *packetConnLink) ReadPacket(buf []byte) (int, error) {
	for {
		if a, ok := l.pc.(addrPortPacketConn); ok && l.ap.IsValid() {
			n, from, err := a.ReadFromUDPAddrPort(buf)
			if err != nil {
				return 0, err
			}
			if from.Addr().Unmap() == l.ap.Addr().Unmap() && from.Port() == l.ap.Port() {
				return n, nil
			}
			continue
		}
		n, from, err := l.pc.ReadFrom(buf)
		if err != nil {
			return 0, err
		}
		if from.String() == l.peer.String() {
			return n, nil
		}
	}
}

func (l *packetConnLink) MTU() int     { return l.mtu }
func (l *packetConnLink) Close() error { return l.pc.Close() }

// rwLink carries IPv4 packets over a device that reads and writes one
// packet per call, such as a TUN device opened without packet information.
type rwLink struct {
	rw  io.ReadWriteCloser
	mtu int
}

// NewDeviceLink returns a Link over rw, which must read and write exactly
// one IPv4 packet per call (a Linux TUN device opened with IFF_TUN |
// IFF_NO_PI, e.g. a netns.TUN). Close closes rw, which must unblock a
// pending Read (an *os.File in non-blocking mode does).
func NewDeviceLink(rw io.ReadWriteCloser, mtu int) (Link, error) {
	if mtu == 0 {
		mtu = 1500
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("tcp: link MTU %d out of range [68, 65535]", mtu)
	}
	return &rwLink{rw: rw, mtu: mtu}, nil
}

func (l *rwLink) WritePacket(pkt []byte) error       { _, err := l.rw.Write(pkt); return err }
func (l *rwLink) ReadPacket(buf []byte) (int, error) { return l.rw.Read(buf) }
func (l *rwLink) MTU() int                           { return l.mtu }
func (l *rwLink) Close() error                       { return l.rw.Close() }
