package netns

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

const vethInfoPeer = 1 // VETH_INFO_PEER, linux/veth.h

// NewVeth creates a veth pair: interface nameA in namespace a, its peer
// nameB in namespace b (both down, no addresses; use Configure). Deleting
// either end, or closing either namespace for good, removes both.
func NewVeth(a *NS, nameA string, b *NS, nameB string) error {
	if len(nameA) >= unix.IFNAMSIZ || len(nameB) >= unix.IFNAMSIZ {
		return fmt.Errorf("netns: veth names %q/%q longer than %d bytes", nameA, nameB, unix.IFNAMSIZ-1)
	}
	peerFD := b.FD()
	return a.Do(func() error {
		peer := ifinfomsg(nil)
		peer = nlattr(peer, unix.IFLA_IFNAME, cstr(nameB))
		peer = nlattr(peer, unix.IFLA_NET_NS_FD, binary.NativeEndian.AppendUint32(nil, uint32(peerFD)))
		data := nlattr(nil, vethInfoPeer, peer)
		info := nlattr(nil, unix.IFLA_INFO_KIND, cstr("veth"))
		info = nlattr(info, unix.IFLA_INFO_DATA, data)
		body := ifinfomsg(nil)
		body = nlattr(body, unix.IFLA_IFNAME, cstr(nameA))
		body = nlattr(body, unix.IFLA_LINKINFO, info)
		if err := rtnetlink(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil {
			return fmt.Errorf("netns %s: create veth %s<->%s: %w", a.name, nameA, nameB, err)
		}
		return nil
	})
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func ifinfomsg(b []byte) []byte {
	return append(b, make([]byte, unix.SizeofIfInfomsg)...) // AF_UNSPEC, any type, index 0
}

func nlattr(b []byte, typ uint16, val []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rtnetlink sends one request on a NETLINK_ROUTE socket created on the
// calling (namespace) thread and waits for the kernel's acknowledgement.
func rtnetlink(typ uint16, flags uint16, body []byte) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	msg := binary.NativeEndian.AppendUint32(nil, uint32(unix.NLMSG_HDRLEN+len(body)))
	msg = binary.NativeEndian.AppendUint16(msg, typ)
	msg = binary.NativeEndian.AppendUint16(msg, flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	msg = binary.NativeEndian.AppendUint32(msg, 1) // seq
	msg = binary.NativeEndian.AppendUint32(msg, 0) // pid: kernel assigns
	msg = append(msg, body...)
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b))
			typ := binary.NativeEndian.Uint16(b[4:])
			seq := binary.NativeEndian.Uint32(b[8:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return fmt.Errorf("bad netlink message length %d", l)
			}
			if typ == unix.NLMSG_ERROR && seq == 1 {
				if l < unix.NLMSG_HDRLEN+4 {
					return fmt.Errorf("short netlink error message (%d bytes)", l)
				}
				if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
					return unix.Errno(-code)
				}
				return nil
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}
