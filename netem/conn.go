package netem

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/internal/deadline"
)

// MaxDatagram is the largest payload a Conn accepts, as for UDP over IPv4.
const MaxDatagram = 65507

// ErrMessageTooLong is returned by WriteTo for a payload over MaxDatagram.
var ErrMessageTooLong = errors.New("netem: message too long")

// datagram is one queued arrival; buf comes from the network's pool.
type datagram struct {
	buf  *[]byte
	n    int
	from netip.AddrPort
}

// Conn is a net.PacketConn bound to an address of a Network. Reads block on
// a channel (never a lock) and honour deadlines; Close unblocks them with
// net.ErrClosed. Addresses are *net.UDPAddr. Safe for concurrent use. There
// is no useful zero value: use Network.ListenPacket.
type Conn struct {
	net     *Network
	laddr   netip.AddrPort
	udpAddr *net.UDPAddr
	rx      chan datagram
	closed  chan struct{}
	once    sync.Once
	rd, wd  *deadline.Deadline
	dropped atomic.Uint64

	cacheMu sync.Mutex
	cache   map[netip.AddrPort]*net.UDPAddr
}

var _ net.PacketConn = (*Conn)(nil)

func newConn(n *Network, ap netip.AddrPort) *Conn {
	return &Conn{
		net:     n,
		laddr:   ap,
		udpAddr: net.UDPAddrFromAddrPort(ap),
		rx:      make(chan datagram, DefaultRecvQueue),
		closed:  make(chan struct{}),
		rd:      deadline.New(),
		wd:      deadline.New(),
		cache:   make(map[netip.AddrPort]*net.UDPAddr),
	}
}

// enqueue copies an arriving datagram into the receive queue, dropping it
// when the queue is full or the Conn closed.
func (c *Conn) enqueue(b []byte, from netip.AddrPort) {
	if deadline.Closed(c.closed) {
		return
	}
	bp := c.net.pool.Get().(*[]byte)
	if cap(*bp) < len(b) {
		nb := make([]byte, len(b))
		bp = &nb
	}
	*bp = (*bp)[:len(b)]
	copy(*bp, b)
	select {
	case c.rx <- datagram{buf: bp, n: len(b), from: from}:
	default:
		c.dropped.Add(1)
		c.net.pool.Put(bp)
	}
}

// ReadFrom reads one datagram into b (truncating it if b is short) and
// returns its sender as a *net.UDPAddr. The returned address may be shared
// between calls: do not modify it.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, c.udpAddrFor(from), nil
}

// ReadFromUDPAddrPort is ReadFrom returning the sender as a netip.AddrPort.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if deadline.Closed(c.closed) {
		return 0, netip.AddrPort{}, c.opErr("read", nil, net.ErrClosed)
	}
	dl := c.rd.Wait()
	if deadline.Closed(dl) {
		return 0, netip.AddrPort{}, c.opErr("read", nil, os.ErrDeadlineExceeded)
	}
	select {
	case d := <-c.rx:
		n := copy(b, (*d.buf)[:d.n])
		c.net.pool.Put(d.buf)
		return n, d.from, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, c.opErr("read", nil, net.ErrClosed)
	case <-dl:
		return 0, netip.AddrPort{}, c.opErr("read", nil, os.ErrDeadlineExceeded)
	}
}

func (c *Conn) udpAddrFor(ap netip.AddrPort) *net.UDPAddr {
	c.cacheMu.Lock()
	defer c.cacheMu.Unlock()
	if a, ok := c.cache[ap]; ok {
		return a
	}
	if len(c.cache) >= 256 {
		clear(c.cache)
	}
	a := net.UDPAddrFromAddrPort(ap)
	c.cache[ap] = a
	return a
}

// WriteTo sends b to addr (a *net.UDPAddr, or any net.Addr whose String is
// "ip:port"). It never blocks: the link drops what does not fit its queue.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	dst, err := addrPortOf(addr)
	if err != nil {
		return 0, c.opErr("write", addr, err)
	}
	return c.writeTo(b, dst, addr)
}

// WriteToUDPAddrPort is WriteTo with a netip.AddrPort destination.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.writeTo(b, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), nil)
}

func (c *Conn) writeTo(b []byte, dst netip.AddrPort, addr net.Addr) (int, error) {
	if deadline.Closed(c.closed) {
		return 0, c.opErr("write", addr, net.ErrClosed)
	}
	if deadline.Closed(c.wd.Wait()) {
		return 0, c.opErr("write", addr, os.ErrDeadlineExceeded)
	}
	if len(b) > MaxDatagram {
		return 0, c.opErr("write", addr, fmt.Errorf("%w (%d > %d bytes)", ErrMessageTooLong, len(b), MaxDatagram))
	}
	c.net.send(c.laddr, dst, b)
	return len(b), nil
}

func addrPortOf(addr net.Addr) (netip.AddrPort, error) {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.UDPAddr:
		if a == nil {
			return ap, errors.New("netem: nil address")
		}
		ap = a.AddrPort()
	case nil:
		return ap, errors.New("netem: nil address")
	default:
		var err error
		if ap, err = netip.ParseAddrPort(addr.String()); err != nil {
			return ap, fmt.Errorf("netem: address %q: %w", addr.String(), err)
		}
	}
	if !ap.Addr().IsValid() {
		return ap, fmt.Errorf("netem: address %v has no IP", addr)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

func (c *Conn) opErr(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.udpAddr, Addr: addr, Err: err}
}

// Close unbinds the address and unblocks pending reads with net.ErrClosed.
// Later calls return an error wrapping net.ErrClosed.
func (c *Conn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		close(c.closed)
		c.rd.Stop()
		c.wd.Stop()
		c.net.unbind(c)
	})
	if !first {
		return c.opErr("close", nil, net.ErrClosed)
	}
	return nil
}

// LocalAddr returns the bound address as a *net.UDPAddr.
func (c *Conn) LocalAddr() net.Addr { return c.udpAddr }

// LocalAddrPort returns the bound address.
func (c *Conn) LocalAddrPort() netip.AddrPort { return c.laddr }

// Dropped counts datagrams dropped because the receive queue was full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// SetDeadline sets both the read and the write deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.Set(t)
	c.wd.Set(t)
	return nil
}

// SetReadDeadline makes pending and future reads fail with
// os.ErrDeadlineExceeded after t; the zero time clears it.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.Set(t); return nil }

// SetWriteDeadline makes future writes fail with os.ErrDeadlineExceeded
// after t; the zero time clears it.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.Set(t); return nil }
