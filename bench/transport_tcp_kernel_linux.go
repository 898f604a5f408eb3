package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/skiffnet/skiff/bench/raw/tunlink"
)

// kernelTCPTransport is the kernel's TCP between two network namespaces
// whose packets cross the netem link through TUN devices (bench/raw/tunlink),
// with one congestion control. Linux and root only.
type kernelTCPTransport struct{ cc string }

func newKernelTCPTransport(cc string) *kernelTCPTransport { return &kernelTCPTransport{cc: cc} }

func (t *kernelTCPTransport) Name() string { return "tcp-" + t.cc }

func (t *kernelTCPTransport) Description() string {
	return fmt.Sprintf("kernel TCP (%s, Linux defaults otherwise) between two namespaces across the netem link via TUN", t.cc)
}

func (t *kernelTCPTransport) Available() error {
	if err := netns.Available(); err != nil {
		return fmt.Errorf("%w: kernel TCP %s: %v", ErrUnavailable, t.cc, err)
	}
	b, err := readFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	if err == nil && !slices.Contains(splitFields(b), t.cc) {
		return fmt.Errorf("%w: the kernel has no %s congestion control (has %s)", ErrUnavailable, t.cc, b)
	}
	return nil
}

func (t *kernelTCPTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	lk, err := kernelLinks.get(spec)
	if err != nil {
		return nil, fmt.Errorf("bench: TUN link: %w", err)
	}
	dst := netip.AddrPortFrom(lk.AddrB, tcpPort)
	ln, err := lk.B.Listen("tcp4", dst.String())
	if err != nil {
		kernelLinks.put(lk)
		return nil, fmt.Errorf("bench: kernel TCP listen: %w", err)
	}
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, t.cc)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("TCP_CONGESTION %q: %w", t.cc, serr)
		}
		return nil
	}}
	cli, srv, err := connectTCP(ctx, ln, func(ctx context.Context) (net.Conn, error) {
		return lk.A.Dial(ctx, d, "tcp4", dst.String())
	})
	if err != nil {
		ln.Close()
		kernelLinks.put(lk)
		return nil, fmt.Errorf("bench: kernel TCP connect: %w", err)
	}
	closeAll := func() error {
		// Reset, not FIN: no retransmitted FIN of this cell may cross the
		// link once the next cell has it.
		for _, c := range []net.Conn{cli, srv} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		err := errors.Join(cli.Close(), srv.Close(), ln.Close())
		kernelLinks.put(lk)
		return err
	}
	return &Pair{
		Client: newStreamEndpoint(cli),
		Server: newStreamEndpoint(srv),
		Link:   pipesLink{lk.AToB(), lk.BToA()}, // this cell's pipes: Reset swaps them
		Close:  onceErr(closeAll),
	}, nil
}

// kernelTCPTransports returns kernel TCP with reno, cubic and bbr.
func kernelTCPTransports() []Transport {
	return []Transport{newKernelTCPTransport("bbr"), newKernelTCPTransport("cubic"), newKernelTCPTransport("reno")}
}

// kernelLinks keeps the TUN links of finished kernel-TCP cells for the next
// ones: each cell gets fresh pipes (tunlink.Link.Reset: its own profile,
// seed and zeroed counters) but reuses the namespaces and TUN devices.
// Creating and deleting a network namespace costs the kernel milliseconds
// of work that stall every other runner on a 2-core machine — the latency
// cells running beside it measured those stalls.
var kernelLinks linkPool

// maxIdleLinks bounds the links kept between cells.
const maxIdleLinks = 16

type linkPool struct {
	mu   sync.Mutex
	idle []*tunlink.Link
}

// get returns an idle link reset for spec, or a new one.
func (p *linkPool) get(spec LinkSpec) (*tunlink.Link, error) {
	p.mu.Lock()
	var lk *tunlink.Link
	if n := len(p.idle); n > 0 {
		lk, p.idle = p.idle[n-1], p.idle[:n-1]
	}
	p.mu.Unlock()
	if lk == nil {
		return tunlink.New(tunlink.Config{AToB: spec.Profile, BToA: spec.Profile, Seed: spec.Seed})
	}
	if err := lk.Reset(spec.Profile, spec.Profile, spec.Seed); err != nil {
		p.put(lk)
		return nil, err
	}
	return lk, nil
}

// put keeps lk for a later cell (its sockets must be closed).
func (p *linkPool) put(lk *tunlink.Link) {
	p.mu.Lock()
	if len(p.idle) < maxIdleLinks {
		p.idle = append(p.idle, lk)
		lk = nil
	}
	p.mu.Unlock()
	if lk != nil {
		lk.Close()
	}
}

// drain closes the idle links.
func (p *linkPool) drain() error {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	var errs []error
	for _, lk := range idle {
		errs = append(errs, lk.Close())
	}
	return errors.Join(errs...)
}

// releaseKernelLinks closes the TUN links kept between kernel-TCP cells.
func releaseKernelLinks() error { return kernelLinks.drain() }
