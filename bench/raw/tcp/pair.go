package tcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

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
		pc, err := p.Net.ListenPacket(netip.AddrPortFrom(self, pairPort).String())
		if err != nil {
			return nil, err
		}
		link, err := NewPacketConnLink(pc, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, pairPort)), mtu)
		if err != nil {
			pc.Close()
			return nil, err
		}
		c := cfg
		if c.Seed == 0 {
			c.Seed = seed*2 + seedOff + 1
		}
		s, err := NewStack(link, self, c)
		if err != nil {
			link.Close()
			return nil, fmt.Errorf("tcp: pair stack %v: %w", self, err)
		}
		return s, nil
	}
	if p.A, err = mk(PairAddrA, PairAddrB, 0); err != nil {
		return nil, err
	}
	if p.B, err = mk(PairAddrB, PairAddrA, 1); err != nil {
		return nil, err
	}
	return p, nil
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
