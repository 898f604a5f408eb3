// Package ipv4 is the IPv4 layer of skiff's raw-socket stack (bench/raw): the
// header codec (RFC 791), the Internet checksum (RFC 1071) with the TCP/UDP
// pseudo-header helpers, fragmentation of a datagram for an MTU, and a bounded
// reassembler.
//
// Everything here is pure: no I/O, no clock (the reassembler takes now as an
// argument). Decoding into a caller's Header never allocates.
//
// The package imports only the standard library; it must not import other skiff
// packages, sockets or x/sys. bench/raw/{icmp,tcp,arp} and bench/raw/netns build on it.
package ipv4
