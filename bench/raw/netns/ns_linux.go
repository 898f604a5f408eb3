package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by NS methods after Close.
var ErrClosed = errors.New("netns: namespace closed")

// Available returns nil when this process can create network namespaces and
// TUN devices (running as root with /dev/net/tun), and otherwise an error
// whose text is a skip reason: "needs root for network namespaces".
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root for network namespaces")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("needs /dev/net/tun for TUN devices: %w", err)
	}
	return nil
}

var nameSeq atomic.Uint32

// UniqueName returns prefix followed by a per-process, per-call suffix, cut to
// 15 bytes so it is a valid interface name ("sk" + pid + seq by default).
func UniqueName(prefix string) string {
	s := fmt.Sprintf("%s%x%x", prefix, os.Getpid()&0xffff, nameSeq.Add(1))
	if len(s) > unix.IFNAMSIZ-1 {
		s = s[len(s)-(unix.IFNAMSIZ-1):]
	}
	return s
}

// NS is an anonymous network namespace with one locked OS thread inside it.
// Do runs functions on that thread, so sockets, TUN devices and sysctls
// created there belong to the namespace; the resulting file descriptors are
// usable from any goroutine afterwards.
//
// Create with New; the zero value is unusable. Methods are safe for concurrent
// use; calls to Do are serialised on the namespace thread.
type NS struct {
	name string
	fd   int // open /proc/thread-self/ns/net of the namespace thread; keeps it alive
	work chan func()
	done chan struct{}

	mu     sync.Mutex
	closed bool
}

// New creates a fresh network namespace (loopback brought up) and its
// thread. name is only a label for errors and logs. Close it when done.
func New(name string) (*NS, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	n := &NS{name: name, fd: -1, work: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go n.loop(ready)
	if err := <-ready; err != nil {
		<-n.done
		return nil, fmt.Errorf("netns %s: %w", name, err)
	}
	if err := n.LinkUp("lo"); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// loop owns the namespace thread. It never calls UnlockOSThread: when it
// returns, the runtime terminates the thread instead of reusing it elsewhere.
func (n *NS) loop(ready chan<- error) {
	defer close(n.done)
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		ready <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		return
	}
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		ready <- fmt.Errorf("open own netns: %w", err)
		return
	}
	n.fd = fd
	ready <- nil
	for f := range n.work {
		f()
	}
}

// Name returns the label given to New.
func (n *NS) Name() string { return n.name }

// FD returns a file descriptor referring to the namespace (for setns or
// IFLA_NET_NS_FD). It stays valid until Close.
func (n *NS) FD() int { return n.fd }

// Do runs f on the namespace's thread and returns its error. f must not
// block for long (it holds the thread that every other Do waits for) and must
// not call runtime.UnlockOSThread.
func (n *NS) Do(f func() error) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return fmt.Errorf("netns %s: %w", n.name, ErrClosed)
	}
	errc := make(chan error, 1)
	n.work <- func() { errc <- f() }
	n.mu.Unlock()
	return <-errc
}

// Close ends the namespace thread and drops this NS's reference to the
// namespace. Sockets and TUN fds created in it keep it alive until they are
// closed. Close is idempotent.
func (n *NS) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.work)
	n.mu.Unlock()
	<-n.done
	if n.fd >= 0 {
		return unix.Close(n.fd)
	}
	return nil
}

// Sysctl writes value to a per-namespace sysctl, key in dotted form
// ("net.ipv4.ping_group_range").
func (n *NS) Sysctl(key, value string) error {
	return n.Do(func() error {
		p := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
		if err := os.WriteFile(p, []byte(value), 0); err != nil {
			return fmt.Errorf("netns %s: sysctl %s=%q: %w", n.name, key, value, err)
		}
		return nil
	})
}

// ReadSysctl reads a per-namespace sysctl, trimmed of surrounding space.
func (n *NS) ReadSysctl(key string) (string, error) {
	var out string
	err := n.Do(func() error {
		b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
		out = strings.TrimSpace(string(b))
		return err
	})
	return out, err
}

// ReadFile reads a file on the namespace thread; use it for per-namespace
// /proc/thread-self/net/... files (arp, route, snmp).
func (n *NS) ReadFile(path string) ([]byte, error) {
	var out []byte
	err := n.Do(func() (err error) { out, err = os.ReadFile(path); return })
	return out, err
}

// Listen is net.Listen inside the namespace.
func (n *NS) Listen(network, addr string) (l net.Listener, err error) {
	err = n.Do(func() error { l, err = net.Listen(network, addr); return err })
	return l, err
}

// ListenPacket is net.ListenPacket inside the namespace ("udp4", "ip4:icmp", ...).
func (n *NS) ListenPacket(network, addr string) (c net.PacketConn, err error) {
	err = n.Do(func() error { c, err = net.ListenPacket(network, addr); return err })
	return c, err
}

// Dial connects from inside the namespace using d (nil: a zero net.Dialer).
// The connect runs on the namespace thread, so other Do calls wait for it;
// addr should be a literal IP address.
func (n *NS) Dial(ctx context.Context, d *net.Dialer, network, addr string) (c net.Conn, err error) {
	if d == nil {
		d = &net.Dialer{}
	}
	err = n.Do(func() error { c, err = d.DialContext(ctx, network, addr); return err })
	return c, err
}

// Socket is socket(2) inside the namespace (SOCK_CLOEXEC added).
func (n *NS) Socket(domain, typ, proto int) (fd int, err error) {
	err = n.Do(func() error {
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return fmt.Errorf("netns %s: socket(%d, %d, %d): %w", n.name, domain, typ, proto, err)
		}
		return nil
	})
	return fd, err
}

// InterfaceByName is net.InterfaceByName inside the namespace.
func (n *NS) InterfaceByName(name string) (ifi *net.Interface, err error) {
	err = n.Do(func() error { ifi, err = net.InterfaceByName(name); return err })
	return ifi, err
}
