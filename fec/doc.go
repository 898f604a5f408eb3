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
// m = 3 for the default target of 1e-3; at 0.1% it is 1. This is the
// regular rule, which every full group follows.
//
// # Sparse groups
//
// A group the delay bound (or Flush) closed with k' ≤ K/2 packets is a
// sparse group: latency-bound traffic such as 200-byte messages at 50 Hz,
// each alone in its group. Two things set it apart from bulk. Its repairs
// are cheap in absolute terms (four 230-byte repairs per message at 50 Hz
// are 0.4 Mbit/s, under 1% of a 50 Mbit/s path), so their count need not
// be a ratio of the payload. And every group FEC cannot rebuild delays a
// message by an ARQ round trip, so it needs a far lower failure rate than
// the 1% a p99 allows: SparseTargetGroupLoss, 0.1%.
//
// Losses often come in bursts (the bench's P4 profile: Gilbert-Elliott, 5%
// loss, mean burst 3 packets, per packet like Linux netem however far
// apart the packets are), and then a lone message's repair, sent right
// after it, is lost with probability q = P(lost | previous lost) ≈ 2/3
// rather than p once the message was: m repairs leave p·q^m, 1% for m =
// 4, 0.4% for 6. Encoder.SetBurstLoss(p, q) therefore gives sparse groups
// the smallest m in [MinM, SparseMaxM] (default 6, above the bulk MaxM)
// that Gilbert's two-state model says meets the sparse target (SparseMaxM
// when none does), never less than the regular rule
// (Parity). With XOR, whose only parity is the XOR of the group, the
// parity packet is sent up to MaxCopies times (same header: the decoder
// counts the spares as duplicates); for a group of one packet it is a copy
// of the packet, so r copies are RS(1, r) on the wire. Two data losses are
// beyond XOR, so a larger XOR group gets copies only while they still
// gain more than the target (xorCopiesFor).
//
// The Strategy starts from a bursty prior, SparsePriorLoss 5% and
// SparsePriorBurst q = 0.7 (a little worse than P4), so the first message
// of a session already gets SparseMaxM repairs; measurements then relax it. The
// loss rate is the slow average of repair outcomes with the prior counted
// as 16 outcomes (or the fast one when higher); q comes from the packet
// sent just before each lost repair whose fate shows truly (the previous
// repair of its group, or the data packet of a group of one data and one
// repair packet: no other repair could rebuild it), decayed over about 32
// samples, with the prior counted as two. On a clean path the loss rate
// falls and the count with it (to the regular rule after about 2 s of 50
// Hz messages); under independent loss q falls to about p within a few
// lost repairs (5% random loss: 2 repairs); on P4 it stays at SparseMaxM.
//
// Two bounds keep this off bulk traffic. Only sparse traffic qualifies:
// the source bytes of the last quarter second (decayed) must fit the
// budget below, so a bulk transfer's odd small group (slow start, a stall,
// the tail) keeps the regular rule; full groups and groups of more than
// K/2 packets always do. And the repairs beyond the regular rule are paid
// from a token bucket of EncoderConfig.SparseRepairRate bytes per second
// (default 64 KiB/s, holding a quarter second; negative turns the extras
// off); what it cannot pay is not sent (EncoderStats.SparseWithheld).
//
// Measured (fake time, 300 messages per seed pooled, P4, 200-byte
// reliable ordered messages at 50 Hz; TestP4MessageLatency and
// TestFECSparseP4Latency in the root package): with a cap of 4 repairs
// the pooled p99 was 15.7 ms (rs) and 20.5 ms (xor) on seeds 1–10 but 33–35
// ms on seeds 11–50 — a 1% failure rate sits exactly at p99, so the seeds
// decide. With the default cap of 6: fec-rs 17.2 / 14.3 / 15.4 ms and
// fec-xor 18.5 / 15.2 / 16.1 ms on seeds 1–10 / 11–30 / 31–50, at
// wire/payload 8.7 for these messages (the extras are about 0.5 Mbit/s of a
// 50 Mbit/s path, within the budget). Bulk transfers send no extras
// (TestFECSparseBulkOverhead: wire ratios identical with the extras on and
// off at 0% and 5% loss).
//
// # Concurrency
//
// Encoder, Decoder and the Code implementations are not safe for
// concurrent use; each belongs to one session's run loop.
package fec
