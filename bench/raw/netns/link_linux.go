package netns

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// ioctlIfreq runs an interface ioctl on a throw-away AF_INET socket; it must
// be called on the namespace thread.
func ioctlIfreq(ifname string, req uint, set func(*unix.Ifreq) error) (*unix.Ifreq, error) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return nil, err
	}
	if set != nil {
		if err := set(ifr); err != nil {
			return nil, err
		}
	}
	if err := unix.IoctlIfreq(s, req, ifr); err != nil {
		return nil, err
	}
	return ifr, nil
}

func setFlags(ifname string, on, off uint16) error {
	ifr, err := ioctlIfreq(ifname, unix.SIOCGIFFLAGS, nil)
	if err != nil {
		return fmt.Errorf("SIOCGIFFLAGS %s: %w", ifname, err)
	}
	fl := ifr.Uint16()&^off | on
	if _, err := ioctlIfreq(ifname, unix.SIOCSIFFLAGS, func(r *unix.Ifreq) error { r.SetUint16(fl); return nil }); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS %s 0x%x: %w", ifname, fl, err)
	}
	return nil
}

// LinkUp sets IFF_UP on an interface in the namespace.
func (n *NS) LinkUp(ifname string) error {
	return n.Do(func() error { return setFlags(ifname, unix.IFF_UP, 0) })
}

// Flags returns the interface flags (unix.IFF_UP, unix.IFF_RUNNING, ...).
func (n *NS) Flags(ifname string) (flags uint16, err error) {
	err = n.Do(func() error {
		ifr, err := ioctlIfreq(ifname, unix.SIOCGIFFLAGS, nil)
		if err != nil {
			return fmt.Errorf("SIOCGIFFLAGS %s: %w", ifname, err)
		}
		flags = ifr.Uint16()
		return nil
	})
	return flags, err
}

// AddAddr assigns an IPv4 address with its prefix length to an interface
// (the kernel adds the subnet route once the link is up). Only one address
// per interface is supported (SIOCSIFADDR replaces the primary one).
func (n *NS) AddAddr(ifname string, p netip.Prefix) error {
	if !p.Addr().Is4() || p.Bits() < 0 {
		return fmt.Errorf("netns %s: %s is not an IPv4 prefix", n.name, p)
	}
	return n.Do(func() error {
		a := p.Addr().As4()
		if _, err := ioctlIfreq(ifname, unix.SIOCSIFADDR, func(r *unix.Ifreq) error { return r.SetInet4Addr(a[:]) }); err != nil {
			return fmt.Errorf("netns %s: SIOCSIFADDR %s %s: %w", n.name, ifname, p, err)
		}
		m := netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), p.Bits()).Masked().Addr().As4()
		if _, err := ioctlIfreq(ifname, unix.SIOCSIFNETMASK, func(r *unix.Ifreq) error { return r.SetInet4Addr(m[:]) }); err != nil {
			return fmt.Errorf("netns %s: SIOCSIFNETMASK %s %s: %w", n.name, ifname, p, err)
		}
		return nil
	})
}

// SetMTU sets an interface's MTU.
func (n *NS) SetMTU(ifname string, mtu int) error {
	return n.Do(func() error {
		if _, err := ioctlIfreq(ifname, unix.SIOCSIFMTU, func(r *unix.Ifreq) error { r.SetUint32(uint32(mtu)); return nil }); err != nil {
			return fmt.Errorf("netns %s: SIOCSIFMTU %s %d: %w", n.name, ifname, mtu, err)
		}
		return nil
	})
}

// WaitRunning polls until the interface reports IFF_UP and IFF_RUNNING (for
// a TUN: a reader is attached and the carrier is on), or timeout passes.
func (n *NS) WaitRunning(ifname string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		fl, err := n.Flags(ifname)
		if err != nil {
			return err
		}
		if fl&(unix.IFF_UP|unix.IFF_RUNNING) == unix.IFF_UP|unix.IFF_RUNNING {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netns %s: %s not running after %v (flags 0x%x)", n.name, ifname, timeout, fl)
		}
		time.Sleep(time.Millisecond)
	}
}

// Configure is AddAddr (when p is valid), SetMTU (when mtu > 0), LinkUp.
func (n *NS) Configure(ifname string, p netip.Prefix, mtu int) error {
	if mtu > 0 {
		if err := n.SetMTU(ifname, mtu); err != nil {
			return err
		}
	}
	if p.IsValid() {
		if err := n.AddAddr(ifname, p); err != nil {
			return err
		}
	}
	return n.LinkUp(ifname)
}
