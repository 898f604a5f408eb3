package tcp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/netem"
)

// Addresses of a Pair's two hosts.
var (
	PairAddrA = netip.MustParseAddr("10.99.0.1")
	PairAddrB = netip.MustParseAddr("10.99.0.2")
)

// pairPort is the netem port that carries the IP packets of a Pair.
const pairPort = 4 // "IP in IP", for readability of captures

// Pair is two Stacks, A (PairAddrA) and B (PairAddrB), whose IP packets
// travel as datagrams across one link of a netem in-memory network, so that
// two user-space TCP endpoints meet the same impairments as a skiff session
// without root. Create with NewPair; Close stops everything. Built inside a
// testing/synctest bubble it runs in fake time. Safe for concurrent use.
type Pair struct {
	Net  *netem.Network
	Link *netem.Link // AToB carries A's packets to B
	A, B *Stack
}

// NewPair builds a Pair whose link applies aToB and bToA. The IP MTU is
// aToB.MTU (1500 when zero); cfg applies to both Stacks (their seeds are
// derived from seed when cfg.Seed is zero).
func NewPair(aToB, bToA netem.Profile, seed int64, cfg Config) (_ *Pair, err error) {
	mtu := aToB.MTU
	if mtu == 0 {
		mtu = 1500
	}
	p := &Pair{Net: netem.NewNetwork(seed)}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.Link, err = p.Net.Link(PairAddrA.String(), PairAddrB.String(), aToB, bToA); err != nil {
		return nil, err
	}
	mk := func(self, peer netip.Addr, seedOff int64) (*Stack, error) {
		c := cfg
		if c.Seed == 0 {
			c.Seed = seed*2 + seedOff + 1
		}
		return NewNetemStack(p.Net, self, peer, mtu, c)
	}
	if p.A, err = mk(PairAddrA, PairAddrB, 0); err != nil {
		return nil, err
	}
	if p.B, err = mk(PairAddrB, PairAddrA, 1); err != nil {
		return nil, err
	}
	return p, nil
}

// NewNetemStack starts a Stack owning self on a netem in-memory network;
// its IP packets travel as datagrams to the Stack that owns peer (built the
// same way), across whatever Link of n joins the two hosts. This lets the
// benchmark put TCP on hosts of its own Network. mtu bounds the IP packets
// (1500 if zero). Closing the Stack releases its netem Conn.
func NewNetemStack(n *netem.Network, self, peer netip.Addr, mtu int, cfg Config) (*Stack, error) {
	pc, err := n.ListenPacket(netip.AddrPortFrom(self, pairPort).String())
	if err != nil {
		return nil, err
	}
	link, err := NewPacketConnLink(pc, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, pairPort)), mtu)
	if err != nil {
		pc.Close()
		return nil, err
	}
	s, err := NewStack(link, self, cfg)
	if err != nil {
		link.Close()
		return nil, fmt.Errorf("tcp: netem stack %v: %w", self, err)
	}
	return s, nil
}

// Close closes both Stacks (aborting their connections) and the network.
func (p *Pair) Close() error {
	var errs []error
	for _, s := range []*Stack{p.A, p.B} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	errs = append(errs, p.Net.Close())
	return errors.Join(errs...)
}

// TransferResult describes one Pair.Transfer.
type TransferResult struct {
	Bytes    int64         // bytes delivered to B's application, verified
	Elapsed  time.Duration // from Dial to the last byte read at B
	Sender   ConnStats     // A's connection
	Receiver ConnStats     // B's connection
}

// Goodput returns Bytes/Elapsed in bits per second.
func (r TransferResult) Goodput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Elapsed.Seconds()
}

// ErrTransferCorrupt is returned by Transfer when B did not receive exactly
// what A sent.
var ErrTransferCorrupt = errors.New("tcp: transfer corrupted")

// Transfer is the package-level Transfer from A to B.
func (p *Pair) Transfer(ctx context.Context, port uint16, size int64) (TransferResult, error) {
	return Transfer(ctx, p.A, p.B, port, size)
}

// Transfer listens on port of to, connects from from, sends size bytes of
// pseudo-random data, closes, and waits until the receiver has read
// everything (and checked it by SHA-256) or ctx ends. Both connections are
// closed when it returns. Safe to call repeatedly with different ports.
func Transfer(ctx context.Context, from, to *Stack, port uint16, size int64) (TransferResult, error) {
	var res TransferResult
	l, err := to.Listen(port)
	if err != nil {
		return res, err
	}
	defer l.Close()
	type recvResult struct {
		n    int64
		sum  [sha256.Size]byte
		conn *Conn
		err  error
	}
	recvc := make(chan recvResult, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			recvc <- recvResult{err: err}
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, c)
		var r recvResult
		r.n, r.err, r.conn = n, err, c
		h.Sum(r.sum[:0])
		recvc <- r
	}()
	start := time.Now()
	c, err := from.DialContext(ctx, netip.AddrPortFrom(to.Addr(), port))
	if err != nil {
		l.Close()
		<-recvc
		return res, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, c.Abort)
	defer stop()
	h := sha256.New()
	chunk := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(uint64(size), uint64(port)))
	var sendErr error
	for left := size; left > 0 && sendErr == nil; {
		n := min(left, int64(len(chunk)))
		for i := range chunk[:n] {
			chunk[i] = byte(rng.Uint32())
		}
		h.Write(chunk[:n])
		_, sendErr = c.Write(chunk[:n])
		left -= n
	}
	if sendErr == nil {
		sendErr = c.CloseWrite()
	}
	var r recvResult
	select {
	case r = <-recvc:
	case <-ctx.Done():
		c.Abort()
		r = <-recvc
	}
	res.Elapsed = time.Since(start)
	res.Sender = c.Stats()
	if r.conn != nil {
		res.Receiver = r.conn.Stats()
		r.conn.Close()
	}
	if sendErr != nil {
		return res, fmt.Errorf("tcp: transfer: send: %w", sendErr)
	}
	if r.err != nil {
		return res, fmt.Errorf("tcp: transfer: receive: %w", r.err)
	}
	if r.n != size || !bytes.Equal(r.sum[:], h.Sum(nil)) {
		return res, fmt.Errorf("%w: received %d of %d bytes, SHA-256 match %v", ErrTransferCorrupt, r.n, size, r.n == size)
	}
	res.Bytes = r.n
	return res, nil
}
