// Package tcp is a user-space TCP (RFC 9293) for skiff's comparison
// benchmarks: a segment codec, a connection state machine that takes time as
// an argument, and a Stack that runs that state machine over any IPv4 packet
// Link (the netem in-memory network, or a Linux TUN device), exposing
// net.Conn and net.Listener.
//
// The package owns:
//   - segment.go, options.go: the TCP header and option codec (pure, no I/O);
//   - seq.go: sequence-number arithmetic modulo 2^32;
//   - tcb*.go, send_buffer.go, recv_buffer.go, rtt.go: the per-connection
//     state machine (RFC 9293 states, sliding window, reassembly, RFC 6298
//     RTO, fast retransmit / NewReno recovery, keepalive). It never reads a
//     clock, starts a goroutine or does I/O;
//   - stack.go, conn.go, listener.go: the one goroutine that owns every TCB
//     of a Stack, its timer, and the net.Conn / net.Listener wrappers;
//   - link*.go: the Link seam and its netem and TUN implementations.
//
// Congestion control is not implemented here: the window arithmetic comes
// from skiff's congestion package (Reno by default), fed with transmission
// numbers as packet numbers so that the one-reduction-per-window rule holds.
// SACK is not implemented, so SACK-permitted is never advertised (received
// SACK options are parsed and ignored).
//
// The IPv4 header is built and parsed with bench/raw/ipv4; this package must
// not import skiff's session packages (root, rudp, fec) nor any plotting or
// progress-bar module.
package tcp
