package netns

import (
	"fmt"
	"net/netip"
	"time"
)

// TUNHostConfig configures NewTUNHost. The zero value gives a kernel at
// 10.201.0.1/24, a user-space peer at 10.201.0.2, MTU 1500.
type TUNHostConfig struct {
	Name   string       // namespace and interface label; "" = UniqueName("skt")
	Kernel netip.Prefix // the kernel's address on the TUN and the routed subnet
	Peer   netip.Addr   // the address the user-space side owns; zero = Kernel.Addr().Next()
	MTU    int          // interface MTU; 0 = 1500
}

// TUNHost is a network namespace whose kernel owns one end of a TUN device:
// packets the kernel sends to Peer (or anywhere in the Kernel subnet) are read
// from TUN, and packets written to TUN are received by the kernel as if from
// the subnet. IPv6 is disabled in the namespace (no router solicitations on
// the TUN), ping sockets are allowed for every group, and the interface is up
// and IFF_RUNNING when NewTUNHost returns.
//
// The fields are read-only after construction. Close is safe to call more
// than once.
type TUNHost struct {
	NS     *NS
	TUN    *TUN
	Kernel netip.Prefix
	Peer   netip.Addr
	MTU    int
}

// NewTUNHost builds a TUNHost; on any error it removes whatever it created.
func NewTUNHost(cfg TUNHostConfig) (h *TUNHost, err error) {
	if cfg.Name == "" {
		cfg.Name = UniqueName("skt")
	}
	if !cfg.Kernel.IsValid() {
		cfg.Kernel = netip.MustParsePrefix("10.201.0.1/24")
	}
	if !cfg.Peer.IsValid() {
		cfg.Peer = cfg.Kernel.Addr().Next()
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if !cfg.Kernel.Contains(cfg.Peer) || cfg.Peer == cfg.Kernel.Addr() {
		return nil, fmt.Errorf("netns: peer %s must be another address in %s", cfg.Peer, cfg.Kernel)
	}
	ns, err := New(cfg.Name)
	if err != nil {
		return nil, err
	}
	h = &TUNHost{NS: ns, Kernel: cfg.Kernel, Peer: cfg.Peer, MTU: cfg.MTU}
	built := h
	defer func() {
		if err != nil {
			built.Close() // h itself is nil by now
		}
	}()
	if err = ns.Prepare(); err != nil {
		return nil, err
	}
	if h.TUN, err = ns.OpenTUN(cfg.Name); err != nil {
		return nil, err
	}
	if err = ns.Configure(cfg.Name, cfg.Kernel, cfg.MTU); err != nil {
		return nil, err
	}
	if err = ns.WaitRunning(cfg.Name, 5*time.Second); err != nil {
		return nil, err
	}
	return h, nil
}

// Close removes the TUN device and the namespace.
func (h *TUNHost) Close() error {
	var err error
	if h.TUN != nil {
		err = h.TUN.Close()
	}
	if cerr := h.NS.Close(); err == nil {
		err = cerr
	}
	return err
}

// Prepare applies the quiet-test-host sysctls: IPv6 off (if the kernel has
// it), ping sockets allowed for all groups. Call it before creating links.
func (n *NS) Prepare() error {
	for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
		_ = n.Sysctl(k, "1") // absent when the kernel has no IPv6
	}
	return n.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
}
