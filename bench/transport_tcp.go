package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/skiffnet/skiff/bench/raw/tcp"
	"github.com/skiffnet/skiff/netem"
)

// tcpPort is the listening port of both TCP transports.
const tcpPort = 5201

// userTCPTransport is the user-space TCP of bench/raw/tcp (RFC 9293 state
// machine, NewReno recovery, Reno window from skiff's congestion package, no
// SACK) running over the same kind of in-memory netem link as the datagram
// transports: each IP packet is one datagram on the link. It needs no root.
type userTCPTransport struct{}

func newUserTCPTransport() *userTCPTransport { return &userTCPTransport{} }

func (t *userTCPTransport) Name() string { return "tcp-userspace" }

func (t *userTCPTransport) Description() string {
	return "user-space TCP of bench/raw/tcp (reno, no SACK, MSS 1460) over the in-memory link — not kernel TCP"
}

func (t *userTCPTransport) Available() error { return nil }

func (t *userTCPTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	p, err := tcp.NewPair(spec.Profile, spec.Profile, spec.Seed, tcp.Config{Congestion: "reno", Tracer: spec.Tracer})
	if err != nil {
		return nil, fmt.Errorf("bench: user-space TCP pair: %w", err)
	}
	p.Net.SetPreciseTimers(true) // like every bench link
	ln, err := p.B.Listen(tcpPort)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("bench: user-space TCP listen: %w", err)
	}
	cli, srv, err := connectTCP(ctx, ln, func(ctx context.Context) (net.Conn, error) {
		return p.A.DialContext(ctx, netip.AddrPortFrom(tcp.PairAddrB, tcpPort))
	})
	if err != nil {
		ln.Close()
		p.Close()
		return nil, fmt.Errorf("bench: user-space TCP connect: %w", err)
	}
	closeAll := func() error {
		return errors.Join(cli.Close(), srv.Close(), ln.Close(), p.Close())
	}
	return &Pair{
		Client: newStreamEndpoint(cli),
		Server: newStreamEndpoint(srv),
		Link:   pipesLink{p.Link.AToB(), p.Link.BToA()},
		Close:  onceErr(closeAll),
	}, nil
}

// connectTCP dials and accepts one connection.
func connectTCP(ctx context.Context, ln net.Listener, dial func(context.Context) (net.Conn, error)) (cli, srv net.Conn, err error) {
	type accepted struct {
		c   net.Conn
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		acc <- accepted{c, err}
	}()
	cli, err = dial(ctx)
	if err != nil {
		ln.Close() // unblocks Accept
		<-acc
		return nil, nil, err
	}
	select {
	case a := <-acc:
		if a.err != nil {
			cli.Close()
			return nil, nil, a.err
		}
		return cli, a.c, nil
	case <-ctx.Done():
		cli.Close()
		ln.Close()
		<-acc
		return nil, nil, ctx.Err()
	}
}

// pipesLink is a Link made of two netem pipes.
type pipesLink struct{ aToB, bToA *netem.Pipe }

func (l pipesLink) SetProfile(p netem.Profile) error {
	return errors.Join(l.aToB.SetProfile(p), l.bToA.SetProfile(p))
}
func (l pipesLink) DataStats() netem.Stats   { return l.aToB.Stats() }
func (l pipesLink) ReturnStats() netem.Stats { return l.bToA.Stats() }
