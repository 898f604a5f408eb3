package tcp

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// listenBacklog is how many established connections wait for Accept.
const listenBacklog = 128

// maxHalfOpen bounds a listener's connections in SYN-RECEIVED.
const maxHalfOpen = 256

// Listener accepts connections on one port of a Stack; it implements
// net.Listener. Safe for concurrent use. Create with Stack.Listen.
type Listener struct {
	s        *Stack
	port     uint16
	backlog  chan *Conn
	closed   chan struct{}
	once     sync.Once
	shutDone bool // loop-owned
	halfOpen int  // loop-owned: connections in SYN-RECEIVED
}

func newListener(s *Stack, port uint16) *Listener {
	return &Listener{s: s, port: port, backlog: make(chan *Conn, listenBacklog), closed: make(chan struct{})}
}

// enqueue hands an established connection to Accept; false if the backlog
// is full or the listener closed. Called on the loop.
func (l *Listener) enqueue(c *Conn) bool {
	if l.shutDone {
		return false
	}
	select {
	case l.backlog <- c:
		return true
	default:
		return false
	}
}

// shut stops accepting (on the loop): further handshakes are refused and
// queued connections reset.
func (l *Listener) shut() {
	if l.shutDone {
		return
	}
	l.shutDone = true
	if l.s.listeners[l.port] == l {
		delete(l.s.listeners, l.port)
	}
	l.once.Do(func() { close(l.closed) })
	for {
		select {
		case c := <-l.backlog:
			c.t.abort(ErrConnectionRefused)
			l.s.after(c)
		default:
			return
		}
	}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptTCP() }

// AcceptTCP is Accept returning the concrete type.
func (l *Listener) AcceptTCP() (*Conn, error) {
	select {
	case c := <-l.backlog:
		return c, nil
	case <-l.closed:
	case <-l.s.done:
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: ErrClosed}
}

// Close stops listening; connections already accepted are not affected.
func (l *Listener) Close() error {
	_ = l.s.do(func(time.Time) { l.shut() })
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the listening address as a *net.TCPAddr.
func (l *Listener) Addr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(l.s.addr, l.port))
}

var _ net.Listener = (*Listener)(nil)
