package tcp

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/internal/deadline"
)

// Conn is one TCP connection of a Stack; it implements net.Conn. Read and
// Write may be called concurrently with each other and with Close; two
// concurrent Writes may interleave. The zero value is not usable: Conns come
// from Stack.Dial and Listener.Accept.
type Conn struct {
	s        *Stack
	t        *tcb // owned by the Stack's loop; t.rb and t.sb are shared
	key      connKey
	laddr    netip.AddrPort
	listener *Listener

	// Set by the loop.
	halfOpen    bool // counted in listener.halfOpen
	estDone     bool
	estErr      error
	established chan struct{} // closed when the handshake completes or fails
	gone        chan struct{} // closed when the connection reaches CLOSED
	goneDone    bool

	rd, wd    *deadline.Deadline
	closeOnce sync.Once
	closed    atomic.Bool // Close was called
}

// newConn builds a connection and its TCB; the caller registers it.
func (s *Stack) newConn(key connKey, l *Listener) *Conn {
	c := &Conn{
		s: s, key: key, listener: l,
		laddr:       netip.AddrPortFrom(s.addr, key.localPort),
		established: make(chan struct{}),
		gone:        make(chan struct{}),
		rd:          deadline.New(),
		wd:          deadline.New(),
	}
	remote := key.remote.Addr()
	c.t = newTCB(&s.cfg, key.localPort, key.remote.Port(), s.rng.Uint32(), func(h *Header, p []byte) {
		s.writeSegment(remote, h, p)
	})
	return c
}

// after reports the TCB's state changes to the waiting application:
// handshake done (Dial returns, Accept gets the connection) and CLOSED.
func (s *Stack) after(c *Conn) {
	t := c.t
	if l := c.listener; l != nil {
		if half := t.state == StateSynReceived; half != c.halfOpen {
			c.halfOpen = half
			if half {
				l.halfOpen++
			} else {
				l.halfOpen--
			}
		}
	}
	if !c.estDone && t.state.synchronized() {
		c.estDone = true
		close(c.established)
		if c.listener != nil && !c.listener.enqueue(c) {
			t.abort(ErrConnectionRefused)
		}
	}
	if t.state == StateClosed && !c.goneDone {
		c.goneDone = true
		if !c.estDone {
			c.estDone = true
			c.estErr = t.err
			if c.estErr == nil {
				c.estErr = ErrConnectionRefused
			}
			close(c.established)
		}
		if s.conns[c.key] == c {
			delete(s.conns, c.key)
		}
		close(c.gone)
	}
}

// Read reads data received in order; it returns io.EOF after the peer's
// FIN, and the connection's error (ErrConnectionReset, ErrTimeout, ...)
// after an abort.
func (c *Conn) Read(p []byte) (int, error) {
	rb := c.t.rb
	for {
		if c.closed.Load() {
			return 0, c.opErr("read", ErrClosed)
		}
		changed := rb.changed()
		if n := rb.read(p); n > 0 {
			c.s.poke() // the window may have opened
			return n, nil
		}
		if closed, err := rb.state(); closed {
			if err != nil {
				return 0, c.opErr("read", err)
			}
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		select {
		case <-changed:
		case <-c.rd.Wait():
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
	}
}

// Write queues p for sending, blocking while the send buffer is full.
func (c *Conn) Write(p []byte) (int, error) {
	sb := c.t.sb
	total := 0
	for {
		if c.closed.Load() {
			return total, c.opErr("write", ErrClosed)
		}
		changed := sb.changed()
		if closed, err := sb.state(); closed {
			if err == nil {
				err = ErrClosed
			}
			return total, c.opErr("write", err)
		}
		if n := sb.write(p); n > 0 {
			total += n
			p = p[n:]
			c.s.poke()
		}
		if len(p) == 0 {
			return total, nil
		}
		select {
		case <-changed:
		case <-c.wd.Wait():
			return total, c.opErr("write", os.ErrDeadlineExceeded)
		}
	}
}

// Close closes both directions gracefully: queued data and a FIN are still
// sent (the Stack keeps the connection until its close completes), data
// arriving later is discarded. Close does not wait; see Done.
func (c *Conn) Close() error {
	err := ErrClosed
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		err = c.s.do(func(now time.Time) {
			c.t.closeApp(now, true)
			c.s.after(c)
		})
		c.rd.Stop()
		c.wd.Stop()
	})
	if err == ErrStackClosed {
		return nil
	}
	return err
}

// CloseWrite sends a FIN after the queued data (a half close); Read keeps
// working until the peer's FIN.
func (c *Conn) CloseWrite() error {
	return c.s.do(func(now time.Time) {
		c.t.closeApp(now, false)
		c.s.after(c)
	})
}

// Abort resets the connection at once (RST), discarding queued data.
func (c *Conn) Abort() {
	_ = c.s.do(func(time.Time) {
		c.t.abort(ErrAborted)
		c.s.after(c)
	})
}

// Done returns a channel closed when the connection has reached CLOSED
// (after TIME-WAIT, LAST-ACK, a reset or an abort).
func (c *Conn) Done() <-chan struct{} { return c.gone }

// Err returns why the connection closed (nil while open or after an orderly close).
func (c *Conn) Err() error {
	var err error
	if c.s.do(func(time.Time) { err = c.t.err }) != nil {
		select {
		case <-c.gone:
			return c.t.err // the loop has exited: no more writers
		default:
		}
	}
	return err
}

// State returns the connection's current RFC 9293 state.
func (c *Conn) State() State {
	st := StateClosed
	_ = c.s.do(func(time.Time) { st = c.t.state })
	return st
}

// Stats returns the connection's counters.
func (c *Conn) Stats() ConnStats {
	var st ConnStats
	_ = c.s.do(func(time.Time) { st = c.t.Stats() })
	return st
}

// opErr wraps err as net.Conn implementations do.
func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// LocalAddr returns the local address as a *net.TCPAddr.
func (c *Conn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.laddr) }

// RemoteAddr returns the peer's address as a *net.TCPAddr.
func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.key.remote) }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.Set(t)
	c.wd.Set(t)
	return nil
}

// SetReadDeadline sets the deadline for Read.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.Set(t); return nil }

// SetWriteDeadline sets the deadline for Write.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.Set(t); return nil }

var _ net.Conn = (*Conn)(nil)
