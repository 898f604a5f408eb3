package skiff

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// inbound is one datagram handed from a transport's reader to a session's
// run loop. buf belongs to the pool; the loop returns it.
type inbound struct {
	buf  []byte
	n    int
	from netip.AddrPort
}

// addrPortConn is implemented by *net.UDPConn and netem's Conn: reads and
// writes without allocating a net.Addr per datagram.
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// inboundQueue bounds a session's inbound queue; datagrams beyond it are
// dropped and counted (the session is too busy).
const inboundQueue = 512

// transport owns one PacketConn: a reader goroutine demultiplexes
// datagrams by connection ID to sessions (so a client whose address
// changes keeps its session) and hands hellos for unknown IDs to the
// listener. It lives while a listener or any session uses it. Safe for
// concurrent use.
type transport struct {
	pc     net.PacketConn
	apc    addrPortConn // nil if pc does not implement it
	ownsPC bool
	pool   *bufPool

	mu       sync.Mutex
	sessions map[uint64]*Session
	listener *Listener
	refs     int
	closing  bool
	done     chan struct{} // closed when the reader exited

	// dropped counts datagrams for no session (unknown IDs, malformed).
	dropped uint64
}

// newTransportNoStart creates a transport whose datagram buffers hold at
// least maxDatagram bytes; the caller starts its reader (go t.read()).
func newTransportNoStart(pc net.PacketConn, owns bool, maxDatagram int) *transport {
	t := &transport{
		pc:       pc,
		ownsPC:   owns,
		pool:     poolFor(max(2048, maxDatagram)),
		sessions: map[uint64]*Session{},
		done:     make(chan struct{}),
	}
	t.apc, _ = pc.(addrPortConn)
	return t
}

// toAddrPort converts a net.Addr to a canonical AddrPort.
func toAddrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	case nil:
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

func (t *transport) readOne(buf []byte) (int, netip.AddrPort, error) {
	if t.apc != nil {
		n, ap, err := t.apc.ReadFromUDPAddrPort(buf)
		return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), err
	}
	n, a, err := t.pc.ReadFrom(buf)
	ap, _ := toAddrPort(a)
	return n, ap, err
}

func (t *transport) writeTo(b []byte, to netip.AddrPort) error {
	if t.apc != nil {
		_, err := t.apc.WriteToUDPAddrPort(b, to)
		return err
	}
	_, err := t.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

func (t *transport) read() {
	defer close(t.done)
	// Datagrams larger than the pool's buffers are never valid for any
	// session here; one spare byte detects (and drops) them.
	scratch := make([]byte, t.pool.size+1)
	for {
		n, from, err := t.readOne(scratch)
		if err != nil {
			t.mu.Lock()
			closing := t.closing
			t.mu.Unlock()
			if closing {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.fail(err)
			return
		}
		if n > t.pool.size {
			t.countDrop()
			continue
		}
		t.dispatch(scratch[:n], from)
	}
}

func (t *transport) dispatch(b []byte, from netip.AddrPort) {
	id, typ, ok := rudp.PeekConnID(b)
	if !ok {
		t.countDrop()
		return
	}
	t.mu.Lock()
	s := t.sessions[id]
	l := t.listener
	t.mu.Unlock()
	if s != nil {
		buf := t.pool.get()
		copy(buf, b)
		if !s.deliverInbound(inbound{buf: buf, n: len(b), from: from}) {
			t.pool.put(buf)
			s.countInboundDrop()
		}
		return
	}
	if l != nil && typ == rudp.TypeHello {
		l.handleHello(b, from)
		return
	}
	t.countDrop()
}

func (t *transport) countDrop() {
	t.mu.Lock()
	t.dropped++
	t.mu.Unlock()
}

// fail ends every session after a fatal socket error.
func (t *transport) fail(err error) {
	t.mu.Lock()
	ss := make([]*Session, 0, len(t.sessions))
	for _, s := range t.sessions {
		ss = append(ss, s)
	}
	l := t.listener
	t.mu.Unlock()
	for _, s := range ss {
		s.abortLocal(err)
	}
	if l != nil {
		l.fail(err)
	}
}

// register adds a session; false if the transport is closing or the ID is
// taken.
func (t *transport) register(s *Session) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing || t.sessions[s.connID] != nil {
		return false
	}
	t.sessions[s.connID] = s
	t.refs++
	return true
}

func (t *transport) has(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sessions[id] != nil
}

// unregister removes a session and releases its reference.
func (t *transport) unregister(s *Session) {
	t.mu.Lock()
	if t.sessions[s.connID] == s {
		delete(t.sessions, s.connID)
		t.refs--
	}
	t.mu.Unlock()
	t.maybeClose()
}

// release drops the listener's reference.
func (t *transport) releaseListener() {
	t.mu.Lock()
	t.listener = nil
	t.refs--
	t.mu.Unlock()
	t.maybeClose()
}

// maybeClose stops the reader (closing an owned socket) when nothing uses
// the transport any more, and waits for it.
func (t *transport) maybeClose() {
	t.mu.Lock()
	if t.refs > 0 || t.closing {
		t.mu.Unlock()
		return
	}
	t.closing = true
	t.mu.Unlock()
	if t.ownsPC {
		t.pc.Close()
	} else {
		t.pc.SetReadDeadline(time.Unix(1, 0))
	}
	<-t.done
	if !t.ownsPC {
		t.pc.SetReadDeadline(time.Time{})
	}
}
