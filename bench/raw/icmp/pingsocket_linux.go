package icmp

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// PingSocket turns fd, a socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) (a Linux
// "ping socket"; allowed by the net.ipv4.ping_group_range sysctl), into a
// net.PacketConn for Ping: it binds it to an ephemeral identifier and takes
// ownership of fd. Create fd inside the right namespace (netns.NS.Socket).
func PingSocket(fd int) (net.PacketConn, error) {
	if err := unix.Bind(fd, &unix.SockaddrInet4{}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("icmp: bind ping socket: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("icmp: ping socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "icmp-ping")
	defer f.Close()
	c, err := net.FilePacketConn(f) // dups fd
	if err != nil {
		return nil, fmt.Errorf("icmp: ping socket: %w", err)
	}
	return c, nil
}
