package skiff

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/skiffnet/skiff/internal/deadline"
)

// PacketConn returns a net.PacketConn view of the session's messages, so
// code written for a datagram socket (an RTP stack, for instance) runs over
// the session.
//
// Semantics:
//   - WriteTo(p, addr) sends p as one message with delivery d (typically
//     Unreliable or UnreliableSequenced; any Delivery works) and returns
//     len(p) once the session has queued it. addr is ignored: the session
//     has exactly one peer, whose address may change (NAT rebinding). A
//     message larger than Config.MaxMessageSize fails with
//     ErrMessageTooLarge. WriteTo blocks only while the session's send
//     buffer is full.
//     A message longer than one datagram's payload (MTU − 38 bytes, less
//     with FEC) is fragmented; with an unreliable mode, losing one
//     fragment loses it, so keep datagrams within the payload.
//   - ReadFrom returns the next received message (of any delivery mode)
//     whole, with the session's current RemoteAddr. Message boundaries are
//     kept; like a UDP socket, a message longer than the buffer is
//     truncated to it and the rest discarded. ReadFrom takes messages from
//     the same queue as ReceiveMessage: do not mix the two, or two views.
//   - Deadlines: the view has its own read and write deadlines, set by its
//     SetDeadline methods; they apply to calls already blocked, and an
//     expired one makes calls fail with a *net.OpError wrapping
//     ErrDeadlineExceeded (Timeout() is true). The session's own deadlines
//     (Session.SetReadDeadline, SetWriteDeadline) also apply.
//   - Close ends the view only: pending and later ReadFrom/WriteTo return
//     errors wrapping net.ErrClosed, and messages stay queued in the
//     session. It does not close the session (call Session.Close for that).
//     A second Close returns an error wrapping net.ErrClosed.
//   - Once the session has ended (closed, reset, idle timeout, or the peer
//     closed it and every message was read), ReadFrom and WriteTo return
//     errors wrapping both net.ErrClosed and the cause, so a reader loop
//     that stops on net.ErrClosed stops.
//
// The view's methods are safe for concurrent use. It starts no goroutines.
func (s *Session) PacketConn(d Delivery) net.PacketConn {
	return &sessionPacketConn{s: s, d: d, rd: deadline.New(), wd: deadline.New()}
}

// sessionPacketConn is the view PacketConn returns. Its deadlines' channels
// close when the deadline passes or the view is closed; mu orders Close
// against the deadline setters so a closed view's channels stay closed.
type sessionPacketConn struct {
	s      *Session
	d      Delivery
	rd, wd *deadline.Deadline

	mu     sync.Mutex
	closed bool
}

var _ net.PacketConn = (*sessionPacketConn)(nil)

// doneCtx is a context whose Done is a given channel; it lets ReceiveMessage
// wait on the view's deadline-or-close channel without a goroutine.
type doneCtx struct {
	context.Context
	done <-chan struct{}
}

func (c doneCtx) Done() <-chan struct{} { return c.done }

func (c doneCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *sessionPacketConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *sessionPacketConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "skiff", Source: c.s.LocalAddr(), Addr: c.s.RemoteAddr(), Err: err}
}

// endedError maps a session error to the view's: local close and deadlines
// pass through, anything else that ends the session also wraps
// net.ErrClosed.
func endedError(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, ErrDeadlineExceeded) || errors.Is(err, ErrMessageTooLarge) {
		return err
	}
	return fmt.Errorf("%w: session ended: %w", net.ErrClosed, err)
}

// ReadFrom reads the next message into b.
func (c *sessionPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.isClosed() {
		return 0, nil, c.opError("read", net.ErrClosed)
	}
	wait := c.rd.Wait()
	if deadline.Closed(wait) {
		return 0, nil, c.opError("read", ErrDeadlineExceeded)
	}
	m, err := c.s.ReceiveMessage(doneCtx{context.Background(), wait})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			if c.isClosed() {
				return 0, nil, c.opError("read", net.ErrClosed)
			}
			return 0, nil, c.opError("read", ErrDeadlineExceeded)
		}
		return 0, nil, c.opError("read", endedError(err))
	}
	return copy(b, m), c.s.RemoteAddr(), nil
}

// WriteTo sends p as one message; addr is ignored.
func (c *sessionPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	if c.isClosed() {
		return 0, c.opError("write", net.ErrClosed)
	}
	if err := c.s.sendMessageUntil(p, c.d, c.wd); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			if c.isClosed() {
				return 0, c.opError("write", net.ErrClosed)
			}
			return 0, c.opError("write", ErrDeadlineExceeded)
		}
		return 0, c.opError("write", endedError(err))
	}
	return len(p), nil
}

// Close ends the view (not the session) and releases its deadline timers.
func (c *sessionPacketConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	past := time.Unix(1, 0)
	c.rd.Set(past) // wakes pending calls
	c.wd.Set(past)
	return nil
}

// LocalAddr returns the session's local address.
func (c *sessionPacketConn) LocalAddr() net.Addr { return c.s.LocalAddr() }

// SetDeadline sets the view's read and write deadlines.
func (c *sessionPacketConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the view's ReadFrom deadline; the zero time means none.
func (c *sessionPacketConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(c.rd, t)
}

// SetWriteDeadline sets the view's WriteTo deadline; the zero time means none.
func (c *sessionPacketConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(c.wd, t)
}

func (c *sessionPacketConn) setDeadline(d *deadline.Deadline, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set deadline", net.ErrClosed)
	}
	d.Set(t)
	return nil
}
