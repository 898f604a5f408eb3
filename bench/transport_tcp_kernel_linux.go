package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
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
	lk, err := tunlink.New(tunlink.Config{AToB: spec.Profile, BToA: spec.Profile, Seed: spec.Seed})
	if err != nil {
		return nil, fmt.Errorf("bench: TUN link: %w", err)
	}
	dst := netip.AddrPortFrom(lk.AddrB, tcpPort)
	ln, err := lk.B.Listen("tcp4", dst.String())
	if err != nil {
		lk.Close()
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
		lk.Close()
		return nil, fmt.Errorf("bench: kernel TCP connect: %w", err)
	}
	closeAll := func() error {
		return errors.Join(cli.Close(), srv.Close(), ln.Close(), lk.Close())
	}
	return &Pair{
		Client: newStreamEndpoint(cli),
		Server: newStreamEndpoint(srv),
		Link:   pipesLink{lk.AToB(), lk.BToA()},
		Close:  onceErr(closeAll),
	}, nil
}

// kernelTCPTransports returns kernel TCP with reno, cubic and bbr.
func kernelTCPTransports() []Transport {
	return []Transport{newKernelTCPTransport("bbr"), newKernelTCPTransport("cubic"), newKernelTCPTransport("reno")}
}
