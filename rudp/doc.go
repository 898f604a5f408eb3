// Package rudp is skiff's protocol core without I/O: the wire format,
// packet-number arithmetic, the sender's and receiver's buffers, the RTT
// estimator, loss detection and the recovery strategies (timed RTO and
// NACK; FEC plugs in through the same Strategy interface from package fec).
//
// Everything here is a pure state machine: functions take the current time
// as an argument, read no clock, start no goroutines and do no I/O, so the
// same code runs in real time, in testing/synctest fake time and in table
// tests. Nothing is safe for concurrent use; a session's run loop owns it.
// The package imports only the standard library and package congestion
// (for the RTTStats interface); it must not import the root package,
// netem, fec or anything that does I/O.
//
// # Wire format
//
// Every datagram is one packet, big-endian, sealed by a CRC32-C
// (Castagnoli) trailer over all preceding bytes, so that corrupted packets
// are detected and dropped (authenticated encryption comes later):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Version (8)  |   Type (8)    |   Flags (8)   | Reserved (8)  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                     Connection ID (64)                        +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Packet Number (32)                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Timestamp (32, µs, sender's clock)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              Echo Timestamp (32, µs, peer's clock)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Echo Delay (16, ×16 µs)     | [Ack frame, if FlagAck]       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| [FEC source tag, if FlagFEC: Group (32), Index (8)]           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Body (by Type) ...                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         CRC32-C (32)                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Types: Hello, Retry and Accept carry a Handshake body (handshake.go);
// Data one DataFrame (data_frame.go); Ack an AckFrame (ack_frame.go, also
// piggybacked on Data and Ping with FlagAck); Ping nothing but zero padding
// (a padded ping is a path-MTU probe, RFC 8899); Reset a 16-bit
// reason; Repair an opaque FEC repair payload. The fixed overhead is 30
// bytes (header and trailer) plus 8 for a data frame.
//
// Packet numbers count transmissions: they increase by one for every
// packet a side sends, and a retransmission gets a new number (as in QUIC),
// so acknowledgements and RTT samples are never ambiguous. Reliable data is
// identified separately by its reliable sequence number (in the data
// frame), which the receiver reorders on and acknowledges cumulatively. On
// the wire both are 32 bits; UnwrapPN, the one wrap-around helper, expands
// them to 64 bits relative to the largest number seen.
//
// Timestamp and Echo Timestamp implement RFC 7323-style RTT measurement in
// both directions: Echo is the Timestamp of the newest packet received,
// Echo Delay how long it was held (the ack delay). A pure receiver thus has
// an RTT estimate too, which the NACK strategy needs for its timing.
//
// # State machines
//
//   - ReceivedPackets: which packet numbers arrived, as bounded ranges; it
//     fills the AckFrame's ranges.
//   - SendBuffer: reliable frames until acknowledged, and the
//     retransmission queue; payloads are never reused while a frame may be
//     retransmitted.
//   - RecvBuffer: the reordering window of reliable frames, bounded by
//     the advertised flow-control window; duplicates discarded.
//   - SentHistory: every transmission by packet number (bytes in flight,
//     reordering observed).
//   - RTTEstimator: RFC 6298 SRTT, RTTVAR, RTO with bounds and backoff.
//   - Strategy (strategy.go): Timed (RTO, fast retransmit, tail-loss probe;
//     for short flights tail timers, RACK and burst-sized copies:
//     tail_timer.go, rack.go, burst_estimate.go)
//     and NACK (receiver-driven, NackList); the seam for FEC.
package rudp
