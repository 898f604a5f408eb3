package fec

import (
	"encoding/binary"
	"fmt"
	"time"
)

// EncoderStats counts what an Encoder produced. It is a plain value.
type EncoderStats struct {
	// SourcePackets and SourceBytes count packets given to AddSource.
	SourcePackets, SourceBytes uint64
	// RepairPackets and RepairBytes count repair shards handed out by
	// NextRepair (shard bytes, without headers).
	RepairPackets, RepairBytes uint64
	// Groups counts closed groups; GroupsByDelay those closed by the delay
	// bound (or Flush) before reaching k packets.
	Groups, GroupsByDelay uint64
	// EncodeErrors counts groups whose parity could not be computed and
	// which were dropped without repair (never expected).
	EncodeErrors uint64
	// SparseRepairs counts the repair packets sparse groups got beyond
	// the regular rule (SetBurstLoss; for XOR, the extra parity copies);
	// SparseWithheld those the SparseRepairRate budget refused.
	SparseRepairs, SparseWithheld uint64
}

// Encoder groups outgoing source packets and computes their repair
// packets. A group closes when it holds k packets or when its oldest packet
// has waited MaxGroupDelay, whichever comes first; a group closed early is
// coded over the k' < k packets it has, with m scaled to k' (see
// SetLossRate). With interleaving depth d, d groups are open at once and
// consecutive packets go to different groups.
//
// The Encoder reads no clock: the caller passes now, arms a timer for
// NextDeadline and calls OnTimer when it fires. After AddSource or
// OnTimer, the caller drains NextRepair (or AppendNextRepair) until it
// reports false and sends the repair packets.
//
// Shard buffers are pooled: in steady state an Encoder allocates nothing
// per group. Create one with NewEncoder; the zero value is not usable. An
// Encoder is not safe for concurrent use: it belongs to one session loop.
type Encoder struct {
	cfg    EncoderConfig
	code   Code
	nextID uint32
	rr     int
	open   []*egroup
	ready  []*egroup
	head   int
	free   []*egroup
	mFor   [MaxDataShards + 1]uint8
	stats  EncoderStats
	// Sparse groups (sparse.go): repairs wanted per k' (0: regular rule),
	// the budget's token bucket, and the latest now seen (Flush has none).
	sparseFor [MaxDataShards + 1]uint8
	// SetBurstLoss's p and q, and those sparseFor was computed for.
	burstP, burstQ, tableP, tableQ float64
	burstSet, tableOK              bool
	tokens                         float64
	tokensAt                       time.Time
	bucketOn                       bool
	now                            time.Time
	// srcAcc counts recent source bytes, decaying with time constant
	// sparseBucketSpan from srcAt: is the traffic sparse?
	srcAcc float64
	srcAt  time.Time
	// lastRepairs is how many repair packets the group of the last
	// NextRepair sends in all (the Strategy's burst sampling needs it:
	// XOR copies share one header).
	lastRepairs int
}

type egroup struct {
	id       uint32
	first    time.Time
	n        int // data shards so far
	maxLen   int // longest packet so far
	m        int // parity shards, fixed at close
	nsend    int // repair packets to send: m, or XOR's parity copies
	shardLen int
	sent     int // repair packets handed out
	data     [][]byte
	parity   [][]byte
}

// NewEncoder validates cfg (after applying defaults) and returns an
// Encoder. Errors wrap ErrInvalidConfig.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	code, err := NewCode(cfg.Scheme)
	if err != nil {
		return nil, err
	}
	e := &Encoder{
		cfg:    cfg,
		code:   code,
		nextID: cfg.FirstGroupID,
		open:   make([]*egroup, cfg.Interleave),
	}
	e.setFixedParity()
	return e, nil
}

// Config returns the configuration in effect, defaults applied.
func (e *Encoder) Config() EncoderConfig { return e.cfg }

// Stats returns the counters so far.
func (e *Encoder) Stats() EncoderStats { return e.stats }

// setFixedParity fills the per-k' parity table with m scaled to the group
// size: ceil(M*k'/K) within [MinM, M], so an early-closed group keeps
// about the configured overhead ratio instead of sending M repairs for one
// packet.
func (e *Encoder) setFixedParity() {
	for k := 1; k <= e.cfg.K; k++ {
		m := (e.cfg.M*k + e.cfg.K - 1) / e.cfg.K
		e.mFor[k] = uint8(min(max(m, e.cfg.MinM), e.cfg.M))
	}
}

// SetLossRate sets the measured packet loss rate p (0..1, e.g. from the
// receiver's loss reports). From then on a group of k' packets gets the
// smallest m in [MinM, MaxM] with P(more than m of k'+m lost) below
// TargetGroupLoss (MaxM if none is enough). A negative p restores the fixed
// M. It takes effect for groups that close after the call. XOR always uses
// m = 1.
func (e *Encoder) SetLossRate(p float64) {
	if p < 0 {
		e.setFixedParity()
		return
	}
	if p != p { // NaN: ignore a bogus measurement
		return
	}
	for k := 1; k <= e.cfg.K; k++ {
		e.mFor[k] = uint8(ParityFor(k, p, e.cfg.TargetGroupLoss, e.cfg.MinM, e.cfg.MaxM))
	}
}

// Parity returns the m a group of k packets gets now under the regular
// rule (k is clamped to [1, K]): the m of every full group and the least a
// sparse group gets (see SparseParity).
func (e *Encoder) Parity(k int) int {
	return int(e.mFor[min(max(k, 1), e.cfg.K)])
}

// AddSource files pkt (which the caller sends itself, with the returned
// tag) into the next open group and returns the tag. pkt is copied. If the
// group reaches k packets, it closes and its repair packets become
// available from NextRepair. Groups whose delay bound has passed at now
// are closed first. A pkt longer than MaxPacketSize is rejected with an
// error wrapping ErrTooLarge; it must then be sent unprotected.
func (e *Encoder) AddSource(now time.Time, pkt []byte) (SourceTag, error) {
	if len(pkt) > e.cfg.MaxPacketSize {
		return SourceTag{}, fmt.Errorf("%w: source packet %d bytes, max %d", ErrTooLarge, len(pkt), e.cfg.MaxPacketSize)
	}
	e.OnTimer(now)
	tag := e.PeekTag()
	e.add(now, pkt)
	return tag, nil
}

// PeekTag returns the tag the next AddTagged (or AddSource, when no group
// expires first) will file its packet under. It changes nothing. It serves
// callers that must write the tag into a packet before the packet's final
// bytes exist.
func (e *Encoder) PeekTag() SourceTag {
	if g := e.open[e.rr]; g != nil {
		return SourceTag{GroupID: g.id, Index: uint8(g.n)}
	}
	return SourceTag{GroupID: e.nextID}
}

// AddTagged files pkt under tag, which must be PeekTag's answer (else an
// error wrapping ErrInconsistent, and nothing is filed). Unlike AddSource
// it closes no expired group first, so the tag cannot change between
// PeekTag and AddTagged; the run loop's OnTimer closes them. A group that
// reaches k packets closes at once.
func (e *Encoder) AddTagged(now time.Time, tag SourceTag, pkt []byte) error {
	if len(pkt) > e.cfg.MaxPacketSize {
		return fmt.Errorf("%w: source packet %d bytes, max %d", ErrTooLarge, len(pkt), e.cfg.MaxPacketSize)
	}
	if want := e.PeekTag(); tag != want {
		return fmt.Errorf("%w: tag group %d index %d, next is group %d index %d", ErrInconsistent, tag.GroupID, tag.Index, want.GroupID, want.Index)
	}
	e.add(now, pkt)
	return nil
}

func (e *Encoder) add(now time.Time, pkt []byte) {
	e.setNow(now)
	slot := e.rr
	e.rr++
	if e.rr == len(e.open) {
		e.rr = 0
	}
	g := e.open[slot]
	if g == nil {
		g = e.newGroup(now)
		e.open[slot] = g
	}
	buf := g.data[g.n][:LengthPrefixSize+len(pkt)]
	binary.BigEndian.PutUint16(buf, uint16(len(pkt)))
	copy(buf[LengthPrefixSize:], pkt)
	g.data[g.n] = buf
	g.n++
	g.maxLen = max(g.maxLen, len(pkt))
	e.stats.SourcePackets++
	e.stats.SourceBytes += uint64(len(pkt))
	e.noteSource(now, len(pkt))
	if g.n == e.cfg.K {
		e.close(slot, false)
	}
}

func (e *Encoder) newGroup(now time.Time) *egroup {
	var g *egroup
	if n := len(e.free); n > 0 {
		g = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		size := e.cfg.MaxPacketSize + LengthPrefixSize
		g = &egroup{data: make([][]byte, e.cfg.K), parity: make([][]byte, max(e.cfg.MaxM, e.cfg.SparseMaxM))}
		for i := range g.data {
			g.data[i] = make([]byte, 0, size)
		}
		for i := range g.parity {
			g.parity[i] = make([]byte, 0, size)
		}
	}
	g.id = e.nextID
	e.nextID++
	g.first = now
	g.n, g.maxLen, g.m, g.nsend, g.shardLen, g.sent = 0, 0, 0, 0, 0, 0
	return g
}

// close codes the group in slot and queues its repair packets.
func (e *Encoder) close(slot int, early bool) {
	g := e.open[slot]
	e.open[slot] = nil
	g.shardLen = g.maxLen + LengthPrefixSize
	for i := 0; i < g.n; i++ {
		d := g.data[i]
		l := len(d)
		d = d[:g.shardLen]
		clear(d[l:])
		g.data[i] = d
	}
	g.m = e.Parity(g.n)
	g.nsend = g.m
	if early {
		e.addSparseRepairs(g)
	}
	for j := 0; j < g.m; j++ {
		g.parity[j] = g.parity[j][:g.shardLen]
	}
	if err := e.code.Encode(g.data[:g.n], g.parity[:g.m]); err != nil {
		e.stats.EncodeErrors++
		e.free = append(e.free, g)
		return
	}
	e.stats.Groups++
	if early {
		e.stats.GroupsByDelay++
	}
	e.ready = append(e.ready, g)
}

// NextDeadline returns when the oldest open group must close, or the zero
// Time when no group is open (or the delay bound is off).
func (e *Encoder) NextDeadline() time.Time {
	var d time.Time
	if e.cfg.MaxGroupDelay < 0 {
		return d
	}
	for _, g := range e.open {
		if g == nil {
			continue
		}
		if t := g.first.Add(e.cfg.MaxGroupDelay); d.IsZero() || t.Before(d) {
			d = t
		}
	}
	return d
}

// OnTimer closes every open group whose oldest packet has waited
// MaxGroupDelay at now. Call it when NextDeadline passes, then drain
// NextRepair.
func (e *Encoder) OnTimer(now time.Time) {
	e.setNow(now)
	if e.cfg.MaxGroupDelay < 0 {
		return
	}
	for slot, g := range e.open {
		if g != nil && !now.Before(g.first.Add(e.cfg.MaxGroupDelay)) {
			e.close(slot, true)
		}
	}
}

// Flush closes every open group now, whatever its age (for example when
// the sender goes idle or the session closes).
func (e *Encoder) Flush() {
	for slot, g := range e.open {
		if g != nil {
			e.close(slot, true)
		}
	}
}

// PendingRepairs returns how many repair packets NextRepair will yield.
func (e *Encoder) PendingRepairs() int {
	n := 0
	for _, g := range e.ready[e.head:] {
		n += g.nsend - g.sent
	}
	return n
}

// NextRepair returns the next repair packet ready to send: its header and
// its shard. The shard aliases the Encoder's buffers and stays valid until
// the next call to AddSource, OnTimer or Flush. ok is false when no repair
// is pending.
func (e *Encoder) NextRepair() (h RepairHeader, shard []byte, ok bool) {
	if e.head == len(e.ready) {
		return h, nil, false
	}
	g := e.ready[e.head]
	j := g.sent % g.m // XOR's copies repeat its one parity shard
	h = RepairHeader{
		GroupID:  g.id,
		Scheme:   e.cfg.Scheme,
		Index:    uint8(g.n + j),
		K:        uint8(g.n),
		M:        uint8(g.m),
		ShardLen: uint16(g.shardLen),
	}
	shard = g.parity[j]
	g.sent++
	e.lastRepairs = g.nsend
	e.stats.RepairPackets++
	e.stats.RepairBytes += uint64(len(shard))
	if g.sent == g.nsend {
		e.ready[e.head] = nil
		e.head++
		if e.head == len(e.ready) {
			e.ready, e.head = e.ready[:0], 0
		}
		e.free = append(e.free, g)
	}
	return h, shard, true
}

// AppendNextRepair appends the next repair packet (header then shard) to b.
// ok is false, and b is returned unchanged, when none is pending.
func (e *Encoder) AppendNextRepair(b []byte) (_ []byte, ok bool) {
	h, shard, ok := e.NextRepair()
	if !ok {
		return b, false
	}
	b = h.AppendTo(b)
	return append(b, shard...), true
}
