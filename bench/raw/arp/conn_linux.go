package arp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is an AF_PACKET socket (SOCK_DGRAM, ETH_P_ARP) bound to one
// interface: it reads and writes ARP packets, the kernel adding and removing
// the Ethernet header. One reader and one writer may use it concurrently;
// Close unblocks a pending read.
type Conn struct {
	f    *os.File
	rc   syscall.RawConn
	ifi  net.Interface
	hw   [6]byte
	once sync.Once
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Listen opens a Conn on interface ifname in the calling thread's network
// namespace (inside a netns.NS, call it from NS.Do).
func Listen(ifname string) (*Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("arp: %w", err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return nil, fmt.Errorf("arp: AF_PACKET socket: %w", err)
	}
	return NewConn(fd, ifi)
}

// NewConn binds fd, an AF_PACKET SOCK_DGRAM socket, to ifi for ARP and takes
// ownership of it (closed on error).
func NewConn(fd int, ifi *net.Interface) (*Conn, error) {
	if len(ifi.HardwareAddr) != 6 {
		unix.Close(fd)
		return nil, fmt.Errorf("arp: interface %s has no Ethernet address (%v)", ifi.Name, ifi.HardwareAddr)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("arp: bind to %s: %w", ifi.Name, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("arp: %w", err)
	}
	f := os.NewFile(uintptr(fd), "arp:"+ifi.Name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("arp: %w", err)
	}
	return &Conn{f: f, rc: rc, ifi: *ifi, hw: [6]byte(ifi.HardwareAddr)}, nil
}

// HardwareAddr returns the interface's Ethernet address.
func (c *Conn) HardwareAddr() [6]byte { return c.hw }

// Interface returns the interface the Conn is bound to.
func (c *Conn) Interface() net.Interface { return c.ifi }

// ReadPacket reads the next ARP packet received on the interface (frames
// this host sent are skipped) into p and returns the link-layer source.
// Malformed packets are skipped too.
func (c *Conn) ReadPacket(p *Packet) (from [6]byte, err error) {
	var buf [128]byte
	for {
		var n int
		var sa unix.Sockaddr
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			n, sa, rerr = unix.Recvfrom(int(fd), buf[:], 0)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			return from, err
		}
		ll, ok := sa.(*unix.SockaddrLinklayer)
		if !ok || ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if _, err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		copy(from[:], ll.Addr[:6])
		return from, nil
	}
}

// Broadcast is the Ethernet broadcast address.
var Broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// WritePacket sends p to the Ethernet address dst (Broadcast for requests).
func (c *Conn) WritePacket(p *Packet, dst [6]byte) error {
	var buf [PacketLen]byte
	b := p.AppendTo(buf[:0])
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: c.ifi.Index, Halen: 6}
	copy(sa.Addr[:], dst[:])
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, sa)
		return serr != unix.EAGAIN
	})
	return errors.Join(err, serr)
}

// SetReadDeadline sets the deadline for ReadPacket.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes the socket; it is idempotent.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() { err = c.f.Close() })
	return err
}
