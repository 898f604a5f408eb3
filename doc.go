// Package skiff is a reliable-UDP transport: sessions that deliver a
// reliable ordered byte stream (net.Conn) and messages in four delivery
// modes over a lossy, reordering, duplicating path, with pluggable loss
// recovery (timed RTO, NACK, FEC) and congestion control (BBR, CUBIC,
// Reno).
//
// # Use
//
//	l, _ := skiff.ListenAddr("127.0.0.1:7000", nil)
//	go func() { s, _ := l.AcceptSession(ctx); io.Copy(s, s) }()
//	s, _ := skiff.DialAddr(ctx, "127.0.0.1:7000", nil)
//	s.Write([]byte("hello"))
//	s.SendMessage(frame, skiff.UnreliableSequenced)
//
// Listen and Dial take any net.PacketConn, so sessions run over real UDP
// sockets or over the in-memory emulator in package netem.
//
// # What the package owns
//
// The public API (Listener, Session, Config, Stats, errors), the
// transport that demultiplexes datagrams by connection ID, the stateless
// cookie handshake, and each session's run loop: one goroutine that owns
// the session's protocol state (package rudp's buffers, RTT estimator and
// Strategy, and a congestion.Controller) and waits on inbound packets,
// application wake-ups and a single time.Timer — so the whole session runs
// in testing/synctest fake time. Wire format and state machines live in
// rudp; the root package does the I/O and the plumbing.
//
// # Lifecycle
//
// Client hello (padded to the MTU) → server Retry with a stateless HMAC
// cookie over the client's address, connection ID and time → client hello
// echoing the cookie → server creates the session and answers Accept.
// The server keeps no state before the echo and never answers more than
// 3× the bytes it received. Keepalive pings run on idle sessions; a
// session that hears nothing for IdleTimeout ends with ErrIdleTimeout.
// Close sends everything, exchanges end-of-stream frames in both
// directions and lingers briefly to answer late packets; Abort resets.
// The receiver advertises a flow-control limit (Max Seq) that the sender
// never exceeds.
//
// # Datagram size
//
// Sessions start at Config.MTU (1200 bytes, which any path carries); the
// handshake carries each side's largest datagram (Config.MaxDatagramSize,
// 1452 by default). Once established, each side runs path-MTU discovery
// (conn_pmtu.go, after RFC 8899): padded pings probe the ceiling first,
// then halve the unknown range on loss; an acknowledged probe raises the
// size of new packets. Probes sit outside congestion control and loss
// detection, so a lost probe costs only itself.
//
// # Imports
//
// The root package imports rudp, congestion, fec and the standard library;
// it must not import netem, bench, cmd, rtp or rtcp. Recovery strategies
// plug in behind rudp.Strategy: RecoveryFEC builds package fec's strategy
// (RegisterFEC can replace it).
package skiff
