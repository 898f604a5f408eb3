package skiff

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/internal/deadline"
	"github.com/skiffnet/skiff/rudp"
)

// outItem is data queued by Write or SendMessage, cut into frames by the
// run loop.
type outItem struct {
	kind   rudp.FrameKind
	data   []byte
	off    int  // bytes already cut
	frag   int  // fragments already cut
	pooled bool // data belongs to streamPool
}

// Session is one reliable UDP session. It implements net.Conn as a
// reliable ordered byte stream (Read, Write, deadlines) and offers
// messages (SendMessage, ReceiveMessage) next to it. All methods are safe
// for concurrent use. The protocol state is owned by one goroutine (the
// run loop); the methods hand data to it through bounded buffers.
type Session struct {
	connID   uint64
	tr       *transport
	isClient bool
	cfg      Config
	local    net.Addr

	c *conn // protocol state, owned by the run loop

	inMu        sync.Mutex
	inQ         []inbound     // datagrams from the transport, guarded by inMu
	inSignal    chan struct{} // cap 1: inQ became non-empty
	wake        chan struct{} // cap 1: the application changed something
	done        chan struct{} // closed when the run loop exited
	established chan struct{} // closed when the handshake completed
	flushed     chan struct{} // closed when a graceful close completed

	mu          sync.Mutex
	remote      netip.AddrPort
	sendQ       []outItem
	sendQBytes  int
	recvChunks  [][]byte // stream data, pool buffers, from recvHead on
	recvHead    int      // first unread chunk
	recvOff     int      // offset into recvChunks[recvHead]
	recvBytes   int
	msgs        [][]byte
	msgBytes    int
	remoteFin   bool // the peer finished its stream: Read returns EOF when drained
	closeCalled bool // Close was called: the application is done
	abortCalled bool
	finished    bool  // the run loop ended
	err         error // why the session ended (nil after a clean close)
	stats       Stats
	inDrops     uint64
	readable    chan struct{} // cap 1
	msgReady    chan struct{} // cap 1
	writable    chan struct{} // cap 1
	rd, wd      *deadline.Deadline
	started     bool
}

var _ net.Conn = (*Session)(nil)

func newSession(tr *transport, cfg *Config, id uint64, remote netip.AddrPort, client bool) (*Session, error) {
	s := &Session{
		connID:      id,
		tr:          tr,
		isClient:    client,
		cfg:         *cfg,
		local:       tr.pc.LocalAddr(),
		inSignal:    make(chan struct{}, 1),
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		established: make(chan struct{}),
		flushed:     make(chan struct{}),
		remote:      remote,
		readable:    make(chan struct{}, 1),
		msgReady:    make(chan struct{}, 1),
		writable:    make(chan struct{}, 1),
		rd:          deadline.New(),
		wd:          deadline.New(),
	}
	c, err := newConn(s, time.Now())
	if err != nil {
		return nil, err
	}
	s.c = c
	return s, nil
}

// start launches the run loop.
func (s *Session) start() {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	go s.c.run()
}

// discard releases a session whose loop never started.
func (s *Session) discard() {
	s.rd.Stop()
	s.wd.Stop()
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// LocalAddr returns the local socket address.
func (s *Session) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's current address (it changes when the peer's
// NAT rebinds).
func (s *Session) RemoteAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.UDPAddrFromAddrPort(s.remote)
}

// ConnectionID returns the session's connection ID.
func (s *Session) ConnectionID() uint64 { return s.connID }

// SetDeadline sets the read and write deadlines.
func (s *Session) SetDeadline(t time.Time) error {
	s.rd.Set(t)
	s.wd.Set(t)
	return nil
}

// SetReadDeadline sets the deadline of Read and ReceiveMessage.
func (s *Session) SetReadDeadline(t time.Time) error { s.rd.Set(t); return nil }

// SetWriteDeadline sets the deadline of Write and SendMessage.
func (s *Session) SetWriteDeadline(t time.Time) error { s.wd.Set(t); return nil }

// readErrLocked returns the error Read reports when no data is buffered.
func (s *Session) readErrLocked() error {
	switch {
	case s.closeCalled || s.abortCalled:
		return fmt.Errorf("skiff: read: %w", ErrClosed)
	case s.remoteFin:
		return io.EOF
	case s.finished:
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	return nil
}

// Read reads stream data; it returns io.EOF after the peer closed and all
// its data was read.
func (s *Session) Read(b []byte) (int, error) {
	for {
		s.mu.Lock()
		if s.closeCalled || s.abortCalled {
			s.mu.Unlock()
			return 0, fmt.Errorf("skiff: read: %w", ErrClosed)
		}
		if deadline.Closed(s.rd.Wait()) {
			s.mu.Unlock()
			return 0, ErrDeadlineExceeded
		}
		if s.recvBytes > 0 {
			n := s.readLocked(b)
			more := s.recvBytes > 0
			s.mu.Unlock()
			if more {
				signal(s.readable)
			}
			signal(s.wake) // the window may have opened
			return n, nil
		}
		if len(b) == 0 {
			s.mu.Unlock()
			return 0, nil
		}
		if err := s.readErrLocked(); err != nil {
			s.mu.Unlock()
			signal(s.readable)
			return 0, err
		}
		s.mu.Unlock()
		select {
		case <-s.readable:
		case <-s.rd.Wait():
		case <-s.done:
		}
	}
}

func (s *Session) readLocked(b []byte) int {
	n := 0
	for n < len(b) && s.recvHead < len(s.recvChunks) {
		c := s.recvChunks[s.recvHead]
		k := copy(b[n:], c[s.recvOff:])
		n += k
		s.recvOff += k
		if s.recvOff == len(c) {
			s.c.rxPool.put(c)
			s.recvChunks[s.recvHead] = nil
			s.recvHead++
			s.recvOff = 0
		}
	}
	switch h := s.recvHead; {
	case h == len(s.recvChunks):
		s.recvChunks, s.recvHead = s.recvChunks[:0], 0
		if cap(s.recvChunks) > 4096 {
			s.recvChunks = nil
		}
	case h > 256 && h > len(s.recvChunks)/2:
		m := copy(s.recvChunks, s.recvChunks[h:])
		clear(s.recvChunks[m:])
		s.recvChunks, s.recvHead = s.recvChunks[:m], 0
	}
	s.recvBytes -= n
	return n
}

// pendingChunksLocked is the number of unread stream chunks.
func (s *Session) pendingChunksLocked() int { return len(s.recvChunks) - s.recvHead }

// writeErrLocked returns why nothing more can be queued, or nil.
func (s *Session) writeErrLocked() error {
	switch {
	case s.closeCalled || s.abortCalled:
		return fmt.Errorf("skiff: write: %w", ErrClosed)
	case s.finished:
		if s.err != nil {
			return s.err
		}
		return fmt.Errorf("skiff: write: %w", ErrClosed)
	case s.remoteFin:
		return ErrPeerClosed
	}
	return nil
}

// Write queues b on the reliable ordered stream. It blocks while the send
// buffer is full, until the write deadline.
func (s *Session) Write(b []byte) (int, error) {
	n := 0
	for {
		s.mu.Lock()
		if err := s.writeErrLocked(); err != nil {
			s.mu.Unlock()
			return n, err
		}
		if deadline.Closed(s.wd.Wait()) {
			s.mu.Unlock()
			return n, ErrDeadlineExceeded
		}
		if n == len(b) {
			s.mu.Unlock()
			return n, nil
		}
		if room := s.cfg.SendBufferSize - s.sendQBytes; room > 0 {
			k := min(room, len(b)-n)
			s.queueStreamLocked(b[n : n+k])
			n += k
			s.mu.Unlock()
			signal(s.wake)
			continue
		}
		s.mu.Unlock()
		select {
		case <-s.writable:
		case <-s.wd.Wait():
		case <-s.done:
		}
	}
}

// streamItemMax is the size of one queued stream item: stream bytes are
// queued in pooled 64 KiB buffers, so Write does not allocate.
const streamItemMax = 64 << 10

var streamPool = poolFor(streamItemMax)

func (s *Session) queueStreamLocked(b []byte) {
	for len(b) > 0 {
		k := len(s.sendQ)
		if k == 0 || s.sendQ[k-1].kind != rudp.KindStream || len(s.sendQ[k-1].data) == streamItemMax {
			s.sendQ = append(s.sendQ, outItem{kind: rudp.KindStream, data: streamPool.get()[:0], pooled: true})
			k++
		}
		it := &s.sendQ[k-1]
		n := min(len(b), streamItemMax-len(it.data))
		it.data = append(it.data, b[:n]...)
		s.sendQBytes += n
		b = b[n:]
	}
}

// Close closes the session gracefully: queued data is sent and
// acknowledged, both sides exchange end-of-stream, then Close returns
// (the session lingers a little to answer late packets). Pending Read and
// Write calls return at once. Close returns nil when everything written
// was delivered, else the reason it was not (e.g. ErrIdleTimeout).
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closeCalled || s.abortCalled {
		s.mu.Unlock()
		<-s.flushed
		return nil
	}
	s.closeCalled = true
	started := s.started
	// Unread data will never be read: free it, which also reopens the
	// flow-control window so the peer can finish its own close.
	for i := s.recvHead; i < len(s.recvChunks); i++ {
		s.c.rxPool.put(s.recvChunks[i])
	}
	s.recvChunks, s.recvHead, s.recvOff, s.recvBytes = nil, 0, 0, 0
	s.msgs, s.msgBytes = nil, 0
	s.mu.Unlock()
	if !started {
		s.discard()
		return nil
	}
	signal(s.wake)
	signal(s.readable)
	signal(s.writable)
	signal(s.msgReady)
	<-s.flushed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == ErrAborted {
		return nil
	}
	return s.err
}

// Abort ends the session at once: queued data is discarded and the peer
// is told with a reset. It waits for the run loop to exit.
func (s *Session) Abort() error {
	s.abortLocal(ErrAborted)
	<-s.done
	return nil
}

// abortLocal asks the loop to end with err (sending a reset when err is
// ErrAborted).
func (s *Session) abortLocal(err error) {
	s.mu.Lock()
	if !s.abortCalled {
		s.abortCalled = true
		if s.err == nil {
			s.err = err
		}
	}
	s.mu.Unlock()
	signal(s.wake)
}

// Stats returns a snapshot of the session's statistics.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.DroppedInbound = s.inDrops
	return st
}

// Done returns a channel closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended (nil while running or after a clean
// close).
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// deliverInbound queues a datagram for the run loop; false (the caller
// keeps buf) if the queue is full.
func (s *Session) deliverInbound(in inbound) bool {
	s.inMu.Lock()
	if len(s.inQ) >= inboundQueue {
		s.inMu.Unlock()
		return false
	}
	s.inQ = append(s.inQ, in)
	s.inMu.Unlock()
	signal(s.inSignal)
	return true
}

// takeInbound swaps the queued datagrams out into spare (reused) and
// returns them; an idle session keeps no queue memory.
func (s *Session) takeInbound(spare []inbound) []inbound {
	s.inMu.Lock()
	q := s.inQ
	s.inQ = spare[:0]
	if len(q) == 0 && cap(q) > 64 {
		q = nil
	}
	s.inMu.Unlock()
	return q
}

func (s *Session) countInboundDrop() {
	s.mu.Lock()
	s.inDrops++
	s.mu.Unlock()
}
