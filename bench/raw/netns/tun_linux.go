package netns

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TUN is an open TUN device (IFF_TUN|IFF_NO_PI): each Read returns one IPv4
// (or IPv6) packet the kernel routed to the interface, each Write injects one
// packet into the kernel as if received on it. The kernel checks the whole
// IP header and transport checksums of written packets.
//
// Create with NS.OpenTUN. Read and Write may be called concurrently (one
// reader and one writer at a time); Close unblocks a pending Read.
type TUN struct {
	f    *os.File
	name string
	once sync.Once
}

// OpenTUN creates a TUN interface named name in the namespace (not yet up,
// no address). Use Configure and WaitRunning, or NewTUNHost, to bring it up.
func (n *NS) OpenTUN(name string) (*TUN, error) {
	var t *TUN
	err := n.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("netns %s: open /dev/net/tun: %w", n.name, err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("netns %s: TUN name %q: %w", n.name, name, err)
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("netns %s: TUNSETIFF %q: %w", n.name, name, err)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return fmt.Errorf("netns %s: nonblock TUN: %w", n.name, err)
		}
		// Non-blocking, so os.NewFile registers it with the runtime poller:
		// Read parks the goroutine, deadlines work and Close wakes readers.
		t = &TUN{f: os.NewFile(uintptr(fd), "/dev/net/tun:"+name), name: name}
		return nil
	})
	return t, err
}

// Name returns the interface name.
func (t *TUN) Name() string { return t.name }

// Read reads one packet into p (truncated if p is too small).
func (t *TUN) Read(p []byte) (int, error) { return t.f.Read(p) }

// Write injects one packet.
func (t *TUN) Write(p []byte) (int, error) { return t.f.Write(p) }

// SetReadDeadline sets the deadline for pending and future Reads.
func (t *TUN) SetReadDeadline(d time.Time) error { return t.f.SetReadDeadline(d) }

// Close detaches from and destroys the interface. It is idempotent.
func (t *TUN) Close() error {
	var err error
	t.once.Do(func() { err = t.f.Close() })
	return err
}
