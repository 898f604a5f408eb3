// Package tcp is a user-space TCP (RFC 9293) for skiff's comparison
// benchmarks: a segment codec, a connection state machine that takes time as
// an argument, and a Stack that runs that state machine over any IPv4 packet
// Link (the netem in-memory network, or a Linux TUN device), exposing
// net.Conn and net.Listener.
//
// The package owns:
//   - segment.go, options.go: the TCP header and option codec (pure, no I/O);
//   - seq.go: sequence-number arithmetic modulo 2^32;
//   - tcb*.go, buffer.go, rtt.go: the per-connection state machine (RFC 9293
//     states, sliding window with window scaling, reassembly, RFC 6298 RTO,
//     fast retransmit with NewReno or SACK recovery, zero-window probes,
//     keepalive). It never reads a clock, starts a goroutine or does I/O;
//   - stack.go, conn.go, listener.go: the one goroutine that owns every TCB
//     of a Stack, its timer, and the net.Conn / net.Listener wrappers;
//   - link*.go: the Link seam and its net.PacketConn (netem) and device
//     (TUN) implementations; pair.go: two Stacks across a netem link, with
//     Transfer for the benchmark tool.
//
// Congestion control is not implemented here: the window arithmetic comes
// from skiff's congestion package (Reno by default), fed with transmission
// numbers as packet numbers so that the one-reduction-per-window rule holds.
// SACK (RFC 2018) is negotiated unless Config.DisableSACK: the receiver
// reports out-of-order data in up to four blocks, the sender keeps a
// scoreboard and recovers per RFC 6675 (pipe, IsLost with DupThresh 3); without
// SACK it runs NewReno recovery (RFC 6582) on cumulative ACKs and goes back
// to SND.UNA after a timeout. Timestamps (RFC 7323) are not offered, so RTT
// samples follow Karn's algorithm.
//
// The IPv4 header is built and parsed with bench/raw/ipv4; this package must
// not import skiff's session packages (root, rudp, fec) nor any plotting or
// progress-bar module.
package tcp
