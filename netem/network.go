package netem

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// DefaultRecvQueue is how many datagrams a Conn buffers before it drops new
// arrivals, like a full socket receive buffer.
const DefaultRecvQueue = 1024

// ErrAddrInUse is returned by ListenPacket for an address already bound.
var ErrAddrInUse = errors.New("netem: address already in use")

// hostPair is the key of one directed link.
type hostPair struct{ src, dst netip.Addr }

// Network is an in-memory network of hosts (IP addresses) whose Conns
// exchange datagrams without sockets. Traffic between two hosts joined by
// Link passes that link's pipes; traffic between unlinked hosts is delivered
// at once, unimpaired. Datagrams to an address nobody listens on vanish, as
// with UDP. Create it inside a testing/synctest bubble to run in fake time.
// Safe for concurrent use; Close stops every goroutine and timer it started.
type Network struct {
	mu       sync.RWMutex
	seed     int64
	conns    map[netip.AddrPort]*Conn
	links    map[hostPair]*Pipe
	all      []*Link
	nextPort map[netip.Addr]uint16
	closed   bool
	precise  bool      // links time deliveries with hrtimers (SetPreciseTimers)
	pool     sync.Pool // *[]byte receive buffers
}

// SetPreciseTimers makes every link of the network, present and future,
// time its deliveries with a high-resolution timer: see
// Pipe.SetPreciseTimer. For real-time networks only, never inside a
// testing/synctest bubble.
func (n *Network) SetPreciseTimers(on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.precise = on
	for _, l := range n.all {
		l.aToB.SetPreciseTimer(on)
		l.bToA.SetPreciseTimer(on)
	}
}

// NewNetwork returns an empty network whose links draw their randomness from
// seed (each link direction gets its own stream derived from seed and the
// order of Link calls).
func NewNetwork(seed int64) *Network {
	n := &Network{
		seed:     seed,
		conns:    make(map[netip.AddrPort]*Conn),
		links:    make(map[hostPair]*Pipe),
		nextPort: make(map[netip.Addr]uint16),
	}
	n.pool.New = func() any { b := make([]byte, minBufCap); return &b }
	return n
}

// ListenPacket binds a Conn to addr ("10.0.0.1:5000"; port 0 picks a free
// ephemeral port). The host must be a specific IPv4 or IPv6 address.
func (n *Network) ListenPacket(addr string) (*Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("netem: ListenPacket address %q: %w", addr, err)
	}
	ip := ap.Addr().Unmap()
	if ip.IsUnspecified() {
		return nil, fmt.Errorf("netem: ListenPacket address %q: needs a specific IP, not a wildcard", addr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("netem: ListenPacket %q: %w", addr, net.ErrClosed)
	}
	port := ap.Port()
	if port == 0 {
		if port, err = n.ephemeralLocked(ip); err != nil {
			return nil, err
		}
	}
	ap = netip.AddrPortFrom(ip, port)
	if _, ok := n.conns[ap]; ok {
		return nil, fmt.Errorf("netem: ListenPacket %s: %w", ap, ErrAddrInUse)
	}
	c := newConn(n, ap)
	n.conns[ap] = c
	return c, nil
}

func (n *Network) ephemeralLocked(ip netip.Addr) (uint16, error) {
	const lo, hi = 49152, 65535
	p := n.nextPort[ip]
	for range hi - lo + 1 {
		if p < lo {
			p = lo
		}
		cand := p
		if p == hi {
			p = lo
		} else {
			p++
		}
		if _, used := n.conns[netip.AddrPortFrom(ip, cand)]; !used {
			n.nextPort[ip] = p
			return cand, nil
		}
	}
	return 0, fmt.Errorf("netem: no free ephemeral port on %s: %w", ip, ErrAddrInUse)
}

// Link is the pair of pipes joining two hosts of a Network. Stop it with
// Network.Close.
type Link struct {
	a, b       netip.Addr
	aToB, bToA *Pipe
}

// AToB is the pipe carrying datagrams from hostA to hostB.
func (l *Link) AToB() *Pipe { return l.aToB }

// BToA is the pipe carrying datagrams from hostB to hostA.
func (l *Link) BToA() *Pipe { return l.bToA }

// Link joins hostA and hostB (IP addresses, "10.0.0.1") with one pipe per
// direction; directions may differ. A pair can be linked once.
func (n *Network) Link(hostA, hostB string, aToB, bToA Profile) (*Link, error) {
	a, err := netip.ParseAddr(hostA)
	if err != nil {
		return nil, fmt.Errorf("netem: Link hostA %q: %w", hostA, err)
	}
	b, err := netip.ParseAddr(hostB)
	if err != nil {
		return nil, fmt.Errorf("netem: Link hostB %q: %w", hostB, err)
	}
	a, b = a.Unmap(), b.Unmap()
	if a == b {
		return nil, fmt.Errorf("netem: Link hostA and hostB are the same host (%s)", a)
	}
	if err := aToB.Validate(); err != nil {
		return nil, fmt.Errorf("aToB: %w", err)
	}
	if err := bToA.Validate(); err != nil {
		return nil, fmt.Errorf("bToA: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("netem: Link: %w", net.ErrClosed)
	}
	if _, ok := n.links[hostPair{a, b}]; ok {
		return nil, fmt.Errorf("netem: Link %s-%s: the hosts are already linked", a, b)
	}
	idx := int64(len(n.all))
	ab, err := newPipe(aToB, deriveSeed(n.seed, 2*idx), n.route)
	if err != nil {
		return nil, err
	}
	ba, err := newPipe(bToA, deriveSeed(n.seed, 2*idx+1), n.route)
	if err != nil {
		ab.Close()
		return nil, err
	}
	if n.precise {
		ab.SetPreciseTimer(true)
		ba.SetPreciseTimer(true)
	}
	l := &Link{a: a, b: b, aToB: ab, bToA: ba}
	n.links[hostPair{a, b}] = ab
	n.links[hostPair{b, a}] = ba
	n.all = append(n.all, l)
	return l, nil
}

// deriveSeed mixes a stream index into a seed (splitmix64 finaliser).
func deriveSeed(seed, i int64) int64 {
	z := uint64(seed) + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return int64(z ^ z>>31)
}

// send carries one datagram from src to dst: through the link's pipe, or
// straight to the receiver.
func (n *Network) send(src, dst netip.AddrPort, b []byte) {
	n.mu.RLock()
	pipe := n.links[hostPair{src.Addr(), dst.Addr()}]
	n.mu.RUnlock()
	md := meta{src: src, dst: dst}
	if pipe != nil {
		pipe.send(b, md)
		return
	}
	n.route(b, &md)
}

// route hands a datagram to the Conn bound to its destination, if any.
func (n *Network) route(b []byte, md *meta) {
	n.mu.RLock()
	c := n.conns[md.dst]
	n.mu.RUnlock()
	if c != nil {
		c.enqueue(b, md.src)
	}
}

func (n *Network) unbind(c *Conn) {
	n.mu.Lock()
	if n.conns[c.laddr] == c {
		delete(n.conns, c.laddr)
	}
	n.mu.Unlock()
}

// Close closes every Conn and stops every link's goroutine and timer. It is
// idempotent and returns nil.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	conns := make([]*Conn, 0, len(n.conns))
	for _, c := range n.conns {
		conns = append(conns, c)
	}
	links := n.all
	n.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	for _, l := range links {
		l.aToB.Close()
		l.bToA.Close()
	}
	return nil
}
