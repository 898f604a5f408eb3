package tcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// ErrStackClosed is returned by a Stack's methods after Close.
var ErrStackClosed = errors.New("tcp: stack closed")

// connKey identifies a connection on a Stack (which has one local address).
type connKey struct {
	remote    netip.AddrPort
	localPort uint16
}

// StackStats counts what a Stack did with the packets of its link.
type StackStats struct {
	PacketsIn, PacketsOut uint64
	DroppedMalformed      uint64 // bad IPv4 header, TCP header or checksum
	DroppedNotOurs        uint64 // other protocol or address, fragments
	ResetsSent            uint64 // RSTs for segments of no connection
	DroppedSYNs           uint64 // SYNs dropped: too many half-open connections
	LinkWriteErrors       uint64
}

// Stack is a user-space TCP/IPv4 host with one address on one Link. One
// goroutine owns every connection's state and a single timer; a second one
// reads the link. Dial and Listen return net.Conn / net.Listener
// implementations. Create with NewStack; all methods are safe for
// concurrent use. Close aborts every connection and closes the link.
type Stack struct {
	link Link
	addr netip.Addr
	cfg  Config

	in   chan []byte
	free chan []byte
	kick chan struct{}
	reqs chan request
	quit chan struct{}
	done chan struct{} // closed when the loop has exited
	wg   sync.WaitGroup
	once sync.Once

	// Owned by the loop goroutine.
	conns     map[connKey]*Conn
	listeners map[uint16]*Listener
	rng       *rand.Rand
	nextPort  uint16
	ipID      uint16
	out       []byte
	rxIP      ipv4.Header // scratch headers: no allocation per packet
	rxTCP     Header
	txIP      ipv4.Header
	timer     *time.Timer
	stats     StackStats
}

type request struct {
	f    func(now time.Time)
	done chan struct{}
}

// NewStack starts a Stack owning addr (an IPv4 address) on link. The
// Config's zero fields take defaults; the MSS defaults to the link MTU − 40.
func NewStack(link Link, addr netip.Addr, cfg Config) (*Stack, error) {
	if !addr.Is4() {
		return nil, fmt.Errorf("tcp: stack address %v is not IPv4", addr)
	}
	cfg, err := cfg.withDefaults(link.MTU())
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Int64()
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	s := &Stack{
		link: link, addr: addr, cfg: cfg,
		in:        make(chan []byte, 256),
		free:      make(chan []byte, 512),
		kick:      make(chan struct{}, 1),
		reqs:      make(chan request),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		conns:     map[connKey]*Conn{},
		listeners: map[uint16]*Listener{},
		rng:       rng,
		nextPort:  uint16(49152 + rng.IntN(16384)),
		out:       make([]byte, 0, link.MTU()),
		timer:     time.NewTimer(time.Hour),
	}
	s.timer.Stop()
	s.wg.Add(2)
	go s.readLoop()
	go s.loop()
	return s, nil
}

// Addr returns the Stack's IPv4 address.
func (s *Stack) Addr() netip.Addr { return s.addr }

// Close aborts every connection (sending RSTs), closes every listener and
// the link, and waits for the Stack's goroutines to exit. It is safe to call
// more than once.
func (s *Stack) Close() error {
	var err error
	s.once.Do(func() {
		close(s.quit)
		<-s.done
		err = s.link.Close()
		s.wg.Wait()
	})
	return err
}

// Stats returns the Stack's packet counters.
func (s *Stack) Stats() StackStats {
	var st StackStats
	_ = s.do(func(time.Time) { st = s.stats })
	return st
}

// do runs f on the loop goroutine and waits for it.
func (s *Stack) do(f func(now time.Time)) error {
	r := request{f: f, done: make(chan struct{})}
	select {
	case s.reqs <- r:
	case <-s.done:
		return ErrStackClosed
	}
	<-r.done
	return nil
}

// poke asks the loop to run output for every connection (new data to send,
// a window to reopen).
func (s *Stack) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// readLoop moves packets from the link to the loop.
func (s *Stack) readLoop() {
	defer s.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		default:
			buf = make([]byte, s.link.MTU())
		}
		n, err := s.link.ReadPacket(buf[:cap(buf)])
		if err != nil {
			return
		}
		select {
		case s.in <- buf[:n]:
		case <-s.done:
			return
		}
	}
}

// loop is the goroutine that owns every connection.
func (s *Stack) loop() {
	defer s.wg.Done()
	defer close(s.done)
	for {
		s.armTimer(time.Now())
		select {
		case pkt := <-s.in:
			s.handlePacket(time.Now(), pkt)
			select {
			case s.free <- pkt:
			default:
			}
		case <-s.kick:
			now := time.Now()
			for _, c := range s.conns {
				c.t.output(now)
				s.after(c)
			}
		case r := <-s.reqs:
			r.f(time.Now())
			close(r.done)
		case <-s.timer.C:
			now := time.Now()
			for _, c := range s.conns {
				if d := c.t.nextDeadline(); !d.IsZero() && !now.Before(d) {
					c.t.onTimer(now)
					s.after(c)
				}
			}
		case <-s.quit:
			for _, c := range s.conns {
				c.t.abort(ErrStackClosed)
				s.after(c)
			}
			for _, l := range s.listeners {
				l.shut()
			}
			s.timer.Stop()
			return
		}
	}
}

// armTimer sets the loop's timer to the earliest connection deadline.
func (s *Stack) armTimer(now time.Time) {
	var d time.Time
	for _, c := range s.conns {
		if t := c.t.nextDeadline(); !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if d.IsZero() {
		s.timer.Stop()
		return
	}
	s.timer.Reset(max(d.Sub(now), 0))
}

// handlePacket decodes one IPv4 packet and hands its segment to the
// connection it belongs to, a listener, or answers it with a RST.
func (s *Stack) handlePacket(now time.Time, pkt []byte) {
	s.stats.PacketsIn++
	ih := &s.rxIP
	if _, err := ih.Unmarshal(pkt); err != nil {
		s.stats.DroppedMalformed++
		return
	}
	if ih.Protocol != ipv4.ProtocolTCP || ih.Dst != s.addr || ih.IsFragment() {
		s.stats.DroppedNotOurs++
		return
	}
	seg, err := ih.Payload(pkt)
	if err != nil || VerifyChecksum(seg, ih.Src, ih.Dst) != nil {
		s.stats.DroppedMalformed++
		return
	}
	h := &s.rxTCP
	off, err := h.Unmarshal(seg)
	if err != nil {
		s.stats.DroppedMalformed++
		return
	}
	payload := seg[off:]
	if s.cfg.trace != nil {
		s.cfg.trace(s.addr, false, h, len(payload))
	}
	key := connKey{remote: netip.AddrPortFrom(ih.Src, h.SrcPort), localPort: h.DstPort}
	if c, ok := s.conns[key]; ok {
		c.t.handleSegment(now, h, payload)
		c.t.output(now)
		if s.cfg.checkScoreboard {
			if err := c.t.checkScoreboard(); err != nil {
				panic(err)
			}
		}
		s.after(c)
		return
	}
	if l, ok := s.listeners[h.DstPort]; ok && h.Flags&(FlagSYN|FlagACK|FlagRST) == FlagSYN {
		if l.halfOpen >= maxHalfOpen {
			s.stats.DroppedSYNs++ // a SYN flood cannot grow the table without bound
			return
		}
		c := s.newConn(key, l)
		c.t.listen()
		c.t.handleSegment(now, h, payload)
		if c.t.state != StateClosed {
			s.conns[key] = c
		}
		s.after(c)
		return
	}
	s.sendReset(ih.Src, h, len(payload))
}

// sendReset answers a segment that belongs to no connection (RFC 9293
// §3.10.7.1).
func (s *Stack) sendReset(to netip.Addr, h *Header, payloadLen int) {
	if h.Flags&FlagRST != 0 {
		return
	}
	r := Header{SrcPort: h.DstPort, DstPort: h.SrcPort}
	if h.Flags&FlagACK != 0 {
		r.Seq, r.Flags = h.Ack, FlagRST
	} else {
		r.Ack, r.Flags = h.Seq+h.SegmentLen(payloadLen), FlagRST|FlagACK
	}
	s.stats.ResetsSent++
	s.rxTCP = r // h is done with (it may be s.rxTCP itself)
	s.writeSegment(to, &s.rxTCP, nil)
}

// writeSegment builds the IPv4 packet around one segment and writes it.
func (s *Stack) writeSegment(dst netip.Addr, h *Header, payload []byte) {
	tcpLen := h.MarshalSize() + len(payload)
	ih := &s.txIP
	*ih = ipv4.Header{
		TotalLength: uint16(ipv4.MinHeaderLen + tcpLen),
		ID:          s.ipID,
		Flags:       ipv4.FlagDF,
		TTL:         64,
		Protocol:    ipv4.ProtocolTCP,
		Src:         s.addr,
		Dst:         dst,
	}
	s.ipID++
	b := ih.AppendTo(s.out[:0])
	start := len(b)
	h.Checksum = 0
	b = h.AppendTo(b)
	b = append(b, payload...)
	SetChecksum(b[start:], s.addr, dst)
	if s.cfg.trace != nil {
		s.cfg.trace(s.addr, true, h, len(payload))
	}
	s.out = b[:0]
	s.stats.PacketsOut++
	if err := s.link.WritePacket(b); err != nil {
		s.stats.LinkWriteErrors++
	}
}

// ephemeralPort picks a free local port for a connection to raddr.
func (s *Stack) ephemeralPort(raddr netip.AddrPort) (uint16, error) {
	for range 16384 {
		p := s.nextPort
		s.nextPort++
		if s.nextPort < 49152 {
			s.nextPort = 49152
		}
		if _, used := s.conns[connKey{remote: raddr, localPort: p}]; !used {
			if _, l := s.listeners[p]; !l {
				return p, nil
			}
		}
	}
	return 0, fmt.Errorf("tcp: no free ephemeral port for %v", raddr)
}

// DialContext opens a connection to raddr and waits for the handshake.
func (s *Stack) DialContext(ctx context.Context, raddr netip.AddrPort) (*Conn, error) {
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return nil, fmt.Errorf("tcp: dial %v: need an IPv4 address and a port", raddr)
	}
	var c *Conn
	var err error
	if e := s.do(func(now time.Time) {
		var port uint16
		if port, err = s.ephemeralPort(raddr); err != nil {
			return
		}
		c = s.newConn(connKey{remote: raddr, localPort: port}, nil)
		s.conns[c.key] = c
		c.t.open(now)
		s.after(c)
	}); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	select {
	case <-c.established:
		if c.estErr != nil {
			return nil, fmt.Errorf("tcp: dial %v: %w", raddr, c.estErr)
		}
		return c, nil
	case <-ctx.Done():
		c.Abort()
		return nil, fmt.Errorf("tcp: dial %v: %w", raddr, ctx.Err())
	}
}

// Dial is DialContext without a context.
func (s *Stack) Dial(raddr netip.AddrPort) (*Conn, error) {
	return s.DialContext(context.Background(), raddr)
}

// Listen starts accepting connections on port.
func (s *Stack) Listen(port uint16) (*Listener, error) {
	if port == 0 {
		return nil, errors.New("tcp: listen: port 0")
	}
	var l *Listener
	var err error
	if e := s.do(func(time.Time) {
		if _, used := s.listeners[port]; used {
			err = fmt.Errorf("tcp: listen: port %d already in use", port)
			return
		}
		l = newListener(s, port)
		s.listeners[port] = l
	}); e != nil {
		return nil, e
	}
	return l, err
}
