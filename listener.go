package skiff

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// Listener accepts skiff sessions on one PacketConn. It implements
// net.Listener. Its methods are safe for concurrent use. Closing the
// listener stops accepting new sessions; established sessions keep running
// until they close, and the socket is released after the last one.
type Listener struct {
	cfg Config
	tr  *transport
	jar *cookieJar

	accept    chan *Session
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	err     error
	retries uint64 // Retry packets sent
	refused uint64 // hellos refused (bad cookie after echo, backlog full, amplification)
}

var _ net.Listener = (*Listener)(nil)

// ListenAddr opens a UDP socket on addr ("host:port") and listens on it.
func ListenAddr(addr string, cfg *Config) (*Listener, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return listen(pc, true, c)
}

// Listen accepts sessions on pc, which may be any net.PacketConn (a UDP
// socket, a netem connection, ...). The listener reads pc until it and
// all its sessions are closed; pc is not closed (its read deadline is used
// to stop the reader and is reset afterwards).
func Listen(pc net.PacketConn, cfg *Config) (*Listener, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return listen(pc, false, c)
}

func listen(pc net.PacketConn, owns bool, cfg Config) (*Listener, error) {
	jar, err := newCookieJar(cfg.HandshakeTimeout)
	if err != nil {
		if owns {
			pc.Close()
		}
		return nil, err
	}
	l := &Listener{cfg: cfg, jar: jar, accept: make(chan *Session, cfg.AcceptBacklog), closed: make(chan struct{})}
	tr := newTransportNoStart(pc, owns, cfg.maxDatagram())
	tr.listener = l
	tr.refs = 1
	l.tr = tr
	go tr.read()
	return l, nil
}

// Accept waits for the next session; it implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	s, err := l.AcceptSession(context.Background())
	if err != nil {
		return nil, err
	}
	return s, nil
}

// AcceptSession waits for the next session whose handshake completed.
func (l *Listener) AcceptSession(ctx context.Context) (*Session, error) {
	select {
	case s := <-l.accept:
		return s, nil
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Addr returns the local address.
func (l *Listener) Addr() net.Addr { return l.tr.pc.LocalAddr() }

// Close stops accepting. Sessions not yet accepted are aborted; accepted
// ones continue.
func (l *Listener) Close() error {
	l.shutdown(fmt.Errorf("skiff: listener: %w", ErrClosed))
	return nil
}

func (l *Listener) fail(err error) {
	go l.shutdown(fmt.Errorf("skiff: listener: %w", err))
}

func (l *Listener) shutdown(err error) {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.closed)
		for {
			select {
			case s := <-l.accept:
				s.Abort()
				continue
			default:
			}
			break
		}
		l.tr.releaseListener()
	})
}

// handleHello runs on the transport's reader for hellos of unknown
// connection IDs. It keeps no state until the client echoes a valid
// cookie, and never answers with more than 3× the bytes received.
func (l *Listener) handleHello(b []byte, from netip.AddrPort) {
	select {
	case <-l.closed:
		return
	default:
	}
	var p rudp.Packet
	if _, err := p.Unmarshal(b); err != nil || !from.IsValid() {
		l.tr.countDrop()
		return
	}
	now := time.Now()
	id := p.Header.ConnID
	if len(p.Handshake.Cookie) == 0 || !l.jar.valid(p.Handshake.Cookie, now, from, id) {
		var ck [cookieSize]byte
		r := rudp.Packet{Header: rudp.Header{Version: rudp.Version, Type: rudp.TypeRetry, ConnID: id,
			Echo: p.Header.Timestamp}}
		r.Handshake.Cookie = l.jar.issue(ck[:0], now, from, id)
		if r.MarshalSize() > 3*len(b) {
			l.count(&l.refused)
			return
		}
		var out [128]byte
		l.tr.writeTo(r.AppendTo(out[:0]), from)
		l.count(&l.retries)
		return
	}
	s, err := newSession(l.tr, &l.cfg, id, from, false)
	if err != nil {
		l.count(&l.refused)
		return
	}
	s.c.acceptServer(now, &p)
	if !l.tr.register(s) {
		s.discard()
		return
	}
	select {
	case l.accept <- s:
		s.start()
	default:
		l.tr.unregister(s)
		s.discard()
		l.count(&l.refused)
	}
}

func (l *Listener) count(c *uint64) {
	l.mu.Lock()
	*c++
	l.mu.Unlock()
}
