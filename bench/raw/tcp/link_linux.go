//go:build linux

package tcp

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// NewTUNLink returns a Link over an already attached Linux TUN device fd
// (IFF_TUN | IFF_NO_PI). It switches fd to non-blocking mode so that Go's
// poller can unblock ReadPacket on Close, and takes ownership of fd.
func NewTUNLink(fd int, mtu int) (Link, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("tcp: TUN fd %d: set non-blocking: %w", fd, err)
	}
	return NewDeviceLink(os.NewFile(uintptr(fd), "tun"), mtu)
}
