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
	// The pipes are swapped by Reset while the forwarders run.
	aToB, bToA atomic.Pointer[netem.Pipe]
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
	if err = l.Reset(cfg.AToB, cfg.BToA, cfg.Seed); err != nil {
		return nil, err
	}
	l.wg.Add(2)
	go l.forward(l.tunA, &l.aToB)
	go l.forward(l.tunB, &l.bToA)
	return l, nil
}

// Reset replaces both pipes with new ones built from the given profiles and
// seed (BToA uses seed+1), as New would: counters start at zero and
// packets still in the old pipes are discarded. It lets a caller reuse the
// namespaces and TUN devices for another measurement instead of creating
// new ones (creating and deleting network namespaces costs the kernel
// milliseconds of work that stall every other process on a small machine).
// Close the sockets of the previous measurement first (with SO_LINGER 0,
// so that no FIN retransmission crosses the new pipes).
func (l *Link) Reset(aToB, bToA netem.Profile, seed int64) error {
	tunA, tunB := l.tunA, l.tunB
	ab, err := netem.NewPipe(aToB, seed, func(p []byte) { l.write(tunB, p) })
	if err != nil {
		return fmt.Errorf("tunlink: AToB: %w", err)
	}
	ba, err := netem.NewPipe(bToA, seed+1, func(p []byte) { l.write(tunA, p) })
	if err != nil {
		ab.Close()
		return fmt.Errorf("tunlink: BToA: %w", err)
	}
	// TUN traffic is real time: deliver on time to within microseconds.
	ab.SetPreciseTimer(true)
	ba.SetPreciseTimer(true)
	for _, old := range []*netem.Pipe{l.aToB.Swap(ab), l.bToA.Swap(ba)} {
		if old != nil {
			old.Close()
		}
	}
	l.writeErrors.Store(0)
	return nil
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

// forward reads packets the kernel sends into t and offers them to the
// current pipe until t is closed.
func (l *Link) forward(t *netns.TUN, pipe *atomic.Pointer[netem.Pipe]) {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := t.Read(buf)
		if err != nil {
			return
		}
		pipe.Load().Send(buf[:n])
	}
}

func (l *Link) write(t *netns.TUN, p []byte) {
	if _, err := t.Write(p); err != nil {
		l.writeErrors.Add(1)
	}
}

// AToB returns the pipe carrying A's packets to B (to change its profile,
// script drops, capture).
func (l *Link) AToB() *netem.Pipe { return l.aToB.Load() }

// BToA returns the pipe carrying B's packets to A.
func (l *Link) BToA() *netem.Pipe { return l.bToA.Load() }

// Stats returns both pipes' counters.
func (l *Link) Stats() (aToB, bToA netem.Stats) { return l.AToB().Stats(), l.BToA().Stats() }

// WriteErrors counts packets the kernel refused when they were written into
// the far TUN (normally zero; the kernel reports a corrupted IP header this way).
func (l *Link) WriteErrors() uint64 { return l.writeErrors.Load() }

// Close stops the pipes and forwarders and removes both TUN devices and
// namespaces. Sockets the caller opened in A or B keep their namespace alive
// until they are closed.
func (l *Link) Close() error {
	var errs []error
	l.closeOnce.Do(func() {
		for _, p := range []*netem.Pipe{l.aToB.Load(), l.bToA.Load()} {
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
