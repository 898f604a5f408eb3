// Package netns builds throw-away Linux test hosts for skiff's raw-socket
// stack: anonymous network namespaces with a dedicated OS thread inside each
// (NS), interface configuration by ioctl (address, MTU, up, IFF_RUNNING),
// TUN devices (TUN), veth pairs between two namespaces (NewVeth, rtnetlink),
// per-namespace sysctls and SNMP counters, and TUNHost: a namespace whose
// kernel owns one end of a TUN device while the caller's user-space stack owns
// the other.
//
// Namespaces are anonymous: nothing is mounted under /var/run/netns, so a
// crashed test leaves nothing behind; a namespace disappears when its NS is
// closed and the last socket or TUN fd created in it is closed.
//
// Everything needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); Available says why
// not. Linux only; other systems get ErrUnsupported. The package imports the
// standard library and golang.org/x/sys only; it must not import other skiff
// packages.
package netns
