// Package fec is skiff's forward error correction: erasure codes, the
// group framing that puts them on the wire, and a sender-side Encoder and
// receiver-side Decoder that turn a stream of packets into repair packets
// and back into the packets that were lost.
//
// # What it owns
//
//   - Code, with two implementations: XOR (k data + 1 parity) and
//     ReedSolomon (k + m, github.com/klauspost/reedsolomon).
//   - The wire framing: RepairHeader (group ID, scheme, index, k, m, shard
//     length) in front of every repair packet, and SourceTag (group ID,
//     index), which the session carries on every FEC-protected data packet.
//     Each data shard is [length uint16][packet][zero padding] padded to
//     the group's longest packet, so packets of different lengths share a
//     group and are rebuilt at their own length.
//   - Encoder: grouping, the delay bound, interleaving and adaptive
//     redundancy. Decoder: reassembly with bounded memory, recovery as soon
//     as any k of k+m shards are in, and counters.
//
// It does no I/O, starts no goroutines and reads no clock: every call that
// depends on time takes now, and NextDeadline tells the caller's run loop
// when to call OnTimer. The codec, framing, Encoder and Decoder use only the
// standard library and github.com/klauspost/reedsolomon. Strategy
// (strategy.go) adapts them to a session: it implements rudp.Strategy and
// so imports rudp, wrapping rudp's NACK or timed-RTO strategy as the
// fallback. The package must not import the root package, congestion or
// netem; the root package imports it to offer RecoveryFEC.
//
// # Time-bounded groups rather than a sliding window
//
// A block code whose group waits for k packets is useless for sparse
// traffic: at 50 messages/s a 10-packet group takes 200 ms to fill, the
// parity follows the last packet, and a lost message is repaired no sooner
// than a retransmission would have been (kcp-go's FEC is built that way
// and does not improve message latency at all). So a group here closes
// when it has k packets or when its oldest packet has waited MaxGroupDelay
// (2 ms by default), whichever comes first, and its parity goes out then.
// A group closed early is coded over the k' < k packets it has; the header
// carries k', and m is scaled to k' (ceil(M·k'/K), or chosen from the loss
// rate), so the overhead ratio stays near m/k instead of sending M repairs
// for a single message. A lost message is thus repaired at most
// MaxGroupDelay plus one packet time after it was sent, whatever the
// traffic rate; for bulk traffic groups fill by size long before the
// bound, and RS(k, m) keeps its full strength.
// A caller that knows its send queue just ran dry may call Encoder.Flush
// to close the open groups at once instead of waiting for the bound.
//
// The alternative is a sliding-window code (RFC 8681, e.g. random linear
// codes over the last N source packets, a repair after every few packets).
// It repairs with slightly less latency for the same overhead, and a repair
// packet protects packets of several "groups" at once, which helps with
// bursts. We chose the block code because (1) it reuses a proven, SIMD-fast
// Reed-Solomon implementation (well above 1 GB/s) instead of a new GF(2^8)
// linear-system solver with its own decoding-failure probabilities; (2) its
// decoder is simple to bound: a ring of MaxGroups groups, each complete or
// expired independently, where a sliding-window decoder must keep a linear
// system spanning an unbounded chain of overlapping windows when losses
// keep arriving; (3) the delay bound removes the block code's real defect
// for sparse traffic, and interleaving (depth d) addresses bursts: with
// d groups open at once, a burst of d consecutive losses costs each group
// one packet, which XOR or RS(k,1) repairs; (4) a group that cannot be
// rebuilt leaves exactly its missing packets to the ARQ fallback (NACK or
// RTO), which Strategy holds back briefly so it does not race the repair.
//
// # Measured
//
// In sessions over a 10 ms one-way netem path (recovery_fec_test.go in the
// root package, fake time): 200-byte messages at 50 Hz with 5% loss have
// p99 one-way latency 12.2 ms with time-bounded groups and 70.6 ms with
// size-only groups of 10 (the same code with MaxGroupDelay < 0); a 2 MiB
// transfer at 3% loss has every dropped data packet rebuilt by RS(10,3)
// without retransmission, and XOR(10) at 1% rebuilds about 90%.
//
// # Adaptive redundancy
//
// Encoder.SetLossRate(p) picks, per group size k', the smallest m in
// [MinM, MaxM] with P(more than m of k'+m packets lost) < TargetGroupLoss
// under independent loss p (see ParityFor): at p = 3% and k = 10 that is
// m = 3 for the default target of 1e-3; at 0.1% it is 1.
//
// Losses often come in bursts (the bench's P4 profile: Gilbert-Elliott,
// mean burst 3 packets, per packet like Linux netem), and then a lone
// message's repair, sent right after it, is lost with probability q =
// P(lost | previous lost) ≈ 2/3 rather than p once the message was. The
// Strategy measures q from the packet just before each lost repair packet
// whose fate shows truly (the previous repair of the group, or the data
// packet of a one-packet group: no other repair could rebuild it), and
// once q clearly exceeds p (three samples, q > 2p),
// Encoder.SetBurstLoss(p, q) gives sparse groups (closed by the delay
// bound with at most K/2 packets) the m that Gilbert's two-state model
// needs for SparseTargetGroupLoss (0.5%: each failed group delays a
// message by an ARQ round trip, so the target sits below what a p99
// allows). On P4 that is up to four repairs per 200-byte message
// (wire/payload 4.6 instead of 2.7; pooled p99 over ten fake-time runs of
// 300 messages 54.7 -> 43.1 ms: the first bursts of a run come before the
// estimate, and m follows the noisy loss estimate; a fixed MinM of 4
// reaches 19 ms at 6.5). On independent loss nothing changes, and full
// groups keep the independent rule, so bulk overhead is unchanged.
//
// # Concurrency
//
// Encoder, Decoder and the Code implementations are not safe for
// concurrent use; each belongs to one session's run loop.
package fec
