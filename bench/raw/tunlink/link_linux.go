package tunlink

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/skiffnet/skiff/netem"
)

// Config configures New. The zero value is an unimpaired link on
// 10.203.0.0/24 (A = .1, B = .2) with MTU 1500.
type Config struct {
	AToB, BToA netem.Profile // impairment of each direction
	Seed       int64         // seeds the two pipes (BToA uses Seed+1)
	Prefix     netip.Prefix  // subnet of the link; A gets the first host address, B the second
	MTU        int           // MTU of both TUN devices; 0 = 1500
}

// Link is two network namespaces, A and B, joined by two netem pipes through
// TUN devices. AddrA and AddrB are the kernel addresses in each namespace.
// Use A.Listen / B.Dial (netns.NS methods) to put sockets on either side.
//
// Create with New; the zero value is unusable. Methods are safe for
// concurrent use; Close is idempotent.
type Link struct {
	A, B         *netns.NS
	AddrA, AddrB netip.Addr
	MTU          int

	tunA, tunB *netns.TUN
	aToB, bToA *netem.Pipe
	wg         sync.WaitGroup
	closeOnce  sync.Once

	writeErrors atomic.Uint64
}

// New creates the two namespaces, their TUN devices (up, addressed, running),
// the two pipes and the forwarding goroutines. On error nothing is left.
func New(cfg Config) (l *Link, err error) {
	if err := netns.Available(); err != nil {
		return nil, err
	}
	if !cfg.Prefix.IsValid() {
		cfg.Prefix = netip.MustParsePrefix("10.203.0.0/24")
	}
	if !cfg.Prefix.Addr().Is4() || cfg.Prefix.Bits() > 30 {
		return nil, fmt.Errorf("tunlink: prefix %s must be IPv4 with room for two hosts", cfg.Prefix)
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.MTU < 68 || cfg.MTU > 65535 {
		return nil, fmt.Errorf("tunlink: MTU %d outside 68..65535", cfg.MTU)
	}
	base := cfg.Prefix.Masked().Addr()
	l = &Link{AddrA: base.Next(), AddrB: base.Next().Next(), MTU: cfg.MTU}
	built := l
	defer func() {
		if err != nil {
			built.Close() // l itself is nil by now
		}
	}()
	name := netns.UniqueName("skl")
	if l.A, err = netns.New(name + "a"); err != nil {
		return nil, err
	}
	if l.B, err = netns.New(name + "b"); err != nil {
		return nil, err
	}
	if l.tunA, err = setup(l.A, name+"a", netip.PrefixFrom(l.AddrA, cfg.Prefix.Bits()), cfg.MTU); err != nil {
		return nil, err
	}
	if l.tunB, err = setup(l.B, name+"b", netip.PrefixFrom(l.AddrB, cfg.Prefix.Bits()), cfg.MTU); err != nil {
		return nil, err
	}
	tunA, tunB := l.tunA, l.tunB
	if l.aToB, err = netem.NewPipe(cfg.AToB, cfg.Seed, func(p []byte) { l.write(tunB, p) }); err != nil {
		return nil, fmt.Errorf("tunlink: AToB: %w", err)
	}
	if l.bToA, err = netem.NewPipe(cfg.BToA, cfg.Seed+1, func(p []byte) { l.write(tunA, p) }); err != nil {
		return nil, fmt.Errorf("tunlink: BToA: %w", err)
	}
	l.wg.Add(2)
	go l.forward(tunA, l.aToB)
	go l.forward(tunB, l.bToA)
	return l, nil
}

func setup(ns *netns.NS, ifname string, p netip.Prefix, mtu int) (*netns.TUN, error) {
	if err := ns.Prepare(); err != nil {
		return nil, err
	}
	t, err := ns.OpenTUN(ifname)
	if err != nil {
		return nil, err
	}
	if err := ns.Configure(ifname, p, mtu); err == nil {
		err = ns.WaitRunning(ifname, 5e9)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// forward reads packets the kernel sends into t and offers them to pipe
// until t is closed.
func (l *Link) forward(t *netns.TUN, pipe *netem.Pipe) {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := t.Read(buf)
		if err != nil {
			return
		}
		pipe.Send(buf[:n])
	}
}

func (l *Link) write(t *netns.TUN, p []byte) {
	if _, err := t.Write(p); err != nil {
		l.writeErrors.Add(1)
	}
}

// AToB returns the pipe carrying A's packets to B (to change its profile,
// script drops, capture).
func (l *Link) AToB() *netem.Pipe { return l.aToB }

// BToA returns the pipe carrying B's packets to A.
func (l *Link) BToA() *netem.Pipe { return l.bToA }

// Stats returns both pipes' counters.
func (l *Link) Stats() (aToB, bToA netem.Stats) { return l.aToB.Stats(), l.bToA.Stats() }

// WriteErrors counts packets the kernel refused when they were written into
// the far TUN (normally zero; the kernel reports a corrupted IP header this way).
func (l *Link) WriteErrors() uint64 { return l.writeErrors.Load() }

// Close stops the pipes and forwarders and removes both TUN devices and
// namespaces. Sockets the caller opened in A or B keep their namespace alive
// until they are closed.
func (l *Link) Close() error {
	var errs []error
	l.closeOnce.Do(func() {
		for _, p := range []*netem.Pipe{l.aToB, l.bToA} {
			if p != nil {
				errs = append(errs, p.Close())
			}
		}
		for _, t := range []*netns.TUN{l.tunA, l.tunB} {
			if t != nil {
				errs = append(errs, t.Close())
			}
		}
		l.wg.Wait()
		for _, ns := range []*netns.NS{l.A, l.B} {
			if ns != nil {
				errs = append(errs, ns.Close())
			}
		}
	})
	return errors.Join(errs...)
}
