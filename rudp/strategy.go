package rudp

import "time"

// Env is the session as a Strategy sees it: the shared sender and receiver
// state and the actions a strategy may take. The session implements it.
// Every call happens on the session's run loop goroutine, the same one that
// calls the Strategy; neither side may keep references across goroutines.
type Env interface {
	// RTT is the session's estimator (SRTT, RTTVAR, RTO), fed by timestamp
	// echoes in both directions, so a pure receiver has it too.
	RTT() *RTTEstimator
	// History holds the session's transmissions by packet number.
	History() *SentHistory
	// SendBuffer holds the unacknowledged reliable frames.
	SendBuffer() *SendBuffer
	// RecvCum is the receiver's next expected reliable sequence number.
	RecvCum() uint64

	// DeclareLost marks p lost, takes it out of flight, reports the loss
	// to congestion control (once per packet, also when p had already left
	// the flight through SentHistory.LeaveFlight) and, when retransmit is
	// true and p carried a reliable frame that is not acknowledged, queues
	// that frame for retransmission.
	DeclareLost(now time.Time, p *SentPacket, retransmit bool)
	// QueueRetransmit queues a reliable frame for retransmission without
	// a loss declaration (probe, or answer to a NACK of a packet already
	// out of flight); false if it is acknowledged or already queued.
	QueueRetransmit(seq uint64) bool
	// RetransmissionTimeout tells congestion control the RTO fired.
	RetransmissionTimeout(now time.Time)
	// SendProbe makes the session send an ack-eliciting packet soon: a
	// queued retransmission or new data if any, else a ping.
	SendProbe()
	// RequestAck makes the session send an acknowledgement soon, whose
	// feedback the strategy fills in AppendFeedback.
	RequestAck()
	// SendRepair sends a TypeRepair packet with payload (FEC), which it
	// copies: at once when nothing else waits to be sent, else queued
	// ahead of data for pacing and the congestion window. Repair packets
	// get packet numbers, are ack-eliciting and in flight, and are never
	// retransmitted. Errors if the payload does not fit the MTU.
	SendRepair(now time.Time, payload []byte) error
	// InjectData processes the encoded DataFrame frame (a recovered FEC
	// source symbol) as if the data packet with wire number pn had just
	// arrived; the session acknowledges pn like a received packet.
	InjectData(now time.Time, pn uint32, frame []byte) error
}

// Strategy decides what to retransmit and when, and what recovery feedback
// the receiver sends. Timed RTO (NewTimed), NACK (NewNACK) and FEC (in
// package fec, wrapping one of these) implement it; the session never
// switches on which one it has.
//
// A strategy is a pure state machine bound to one Env: it reads no clock
// (every call carries now), starts no goroutines, does no I/O except
// through the Env. It is not safe for concurrent use.
//
// # The seam for FEC
//
// An FEC strategy wraps an ARQ fallback (NewNACK or NewTimed) and forwards
// every call to it, adding:
//
//   - Overhead returns FECTagSize so the session leaves room for the tag.
//   - TagSource is asked before each data packet is encoded; returning a
//     tag makes the session set FlagFEC and write the tag. OnPacketSent
//     then hands over the encoded DataFrame bytes (the source symbol) and
//     the packet number; the encoder adds both to its group and, when the
//     group closes (full or timed out, see NextTimeout/OnTimeout), calls
//     Env.SendRepair for each repair payload.
//   - On the receiving side OnDataReceived sees every data packet with its
//     tag and frame bytes, OnRepairReceived every repair payload; when a
//     group becomes decodable the strategy calls Env.InjectData(pn, frame)
//     for each recovered source packet (which the session deduplicates).
//   - AppendFeedback may add NACKs (fallback) for groups it cannot repair.
//
// The session counts injected packets as "recovered by FEC" in its Stats.
type Strategy interface {
	// Name is "rto", "nack" or "fec".
	Name() string
	// Overhead is the number of bytes per data packet the strategy needs
	// for its tag (0 or FECTagSize).
	Overhead() int

	// TagSource returns the FEC tag for the data packet about to be sent
	// with number pn, if it is a source symbol.
	TagSource(now time.Time, pn uint64) (FECTag, bool)
	// OnPacketSent is called after every ack-eliciting packet left; frame
	// is the encoded DataFrame for data packets (nil otherwise), valid only
	// during the call.
	OnPacketSent(now time.Time, p *SentPacket, frame []byte)
	// OnAckReceived is called after the session processed an ack frame
	// (marked packets acknowledged, released frames, fed congestion
	// control). largestNewlyAcked is true when ack.LargestPN acknowledged a
	// packet for the first time; newData when a reliable frame was newly
	// acknowledged. The strategy detects losses and answers NACKs.
	OnAckReceived(now time.Time, ack *AckFrame, largestNewlyAcked, newData bool)

	// OnDataReceived is called for every decoded data packet (not for
	// duplicates of packet numbers); reliable frames carry their 64-bit
	// sequence seq. tag is nil unless FlagFEC was set. frame is valid only
	// during the call.
	OnDataReceived(now time.Time, pn uint64, kind FrameKind, seq uint64, tag *FECTag, frame []byte)
	// OnRepairReceived is called for each TypeRepair payload.
	OnRepairReceived(now time.Time, pn uint64, payload []byte)
	// AppendFeedback adds the strategy's feedback (NACK ranges) to an ack
	// frame about to be sent.
	AppendFeedback(now time.Time, ack *AckFrame)

	// NextTimeout returns when OnTimeout must be called next (the zero
	// time: no timer).
	NextTimeout() time.Time
	// OnTimeout is called when NextTimeout has passed.
	OnTimeout(now time.Time)
}
