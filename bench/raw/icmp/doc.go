// Package icmp is the ICMPv4 layer of skiff's raw-socket stack (RFC 792):
// echo request/reply, destination unreachable and time exceeded with the
// quoted IPv4 header, the ICMP checksum, an echo responder for a user-space
// stack that owns an address (over a TUN device), and a pinger over any
// net.PacketConn carrying ICMP (a raw "ip4:icmp" socket or a Linux ping
// socket) that reports RTT, jitter and loss.
//
// The codecs are pure (no I/O, no clock); only Ping does I/O. The package
// imports the standard library and bench/raw/ipv4; it must not import other
// skiff packages.
package icmp
