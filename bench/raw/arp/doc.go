// Package arp is the ARP layer of skiff's raw-socket stack (RFC 826) for
// Ethernet and IPv4: the packet codec, an expiring neighbour cache, and (on
// Linux) a Host that owns an IPv4 address on an interface through an
// AF_PACKET socket: it resolves neighbours (request, wait for the reply,
// cache it with an expiry) and answers requests for its own address.
//
// The codec and the cache are pure (no I/O; the cache takes now as an
// argument). The package imports the standard library and golang.org/x/sys;
// it must not import other skiff packages.
package arp
