package fec

import (
	"encoding/binary"
	"fmt"
	"time"
)

// DecoderStats counts what a Decoder saw and did. It is a plain value.
type DecoderStats struct {
	// SourcePackets and RepairPackets count packets accepted into groups.
	SourcePackets, RepairPackets uint64
	// Recovered counts data packets rebuilt from parity; RecoveredGroups
	// the groups in which that happened.
	Recovered, RecoveredGroups uint64
	// Unrecoverable counts groups dropped while known (from a repair
	// header) to miss data they could no longer rebuild.
	Unrecoverable uint64
	// Expired counts incomplete groups dropped by age (GroupTimeout), by
	// the window moving past them, or to free buffers for newer groups.
	Expired uint64
	// Malformed counts packets rejected as malformed or inconsistent with
	// their group; OutOfWindow those whose group ID was too old or too far
	// ahead.
	Malformed, OutOfWindow uint64
	// Duplicates counts packets for a shard already held or a group
	// already complete (late or duplicated packets; not errors).
	Duplicates uint64
}

// Recovered is one data packet rebuilt by a Decoder.
type Recovered struct {
	// Tag is the tag the packet was sent with.
	Tag SourceTag
	// Packet is the packet as given to Encoder.AddSource. It aliases the
	// Decoder's scratch space and is valid until the next call to the
	// Decoder.
	Packet []byte
}

// Decoder collects source and repair packets per group and rebuilds lost
// source packets as soon as any k of a group's k+m shards have arrived.
//
// Memory is bounded three ways: only MaxGroups consecutive group IDs are
// tracked (IDs are filed in a ring by ID modulo MaxGroups, older ones are
// forgotten), incomplete groups expire GroupTimeout after their first
// packet, and all groups share at most MaxBufferedShards buffers (the
// oldest incomplete group is dropped when they run out). In steady state it
// allocates only what the Reed-Solomon inversion needs.
//
// The Decoder reads no clock; expiry happens during Add calls and in
// OnTimer. Create one with NewDecoder; the zero value is not usable. A
// Decoder is not safe for concurrent use.
type Decoder struct {
	cfg     DecoderConfig
	xor     XOR
	rs      ReedSolomon
	slots   []dgroup
	hi      uint32
	hiSet   bool
	free    [][]byte
	nbufs   int
	scratch [][]byte
	work    [MaxDataShards + MaxParityShards][]byte
	out     []Recovered
	expiry  time.Time
	stats   DecoderStats
}

const (
	slotEmpty = iota
	slotActive
	slotDone
)

type dgroup struct {
	id       uint32
	state    uint8
	scheme   Scheme
	first    time.Time
	k, m     int // k == 0: no repair seen yet, shape unknown
	shardLen int
	nSrc     int
	nRep     int
	maxIdx   int // highest source index held, -1 if none
	maxLen   int // longest source shard held (prefix included)
	shards   [][]byte
}

// NewDecoder validates cfg (after applying defaults) and returns a
// Decoder. Errors wrap ErrInvalidConfig.
func NewDecoder(cfg DecoderConfig) (*Decoder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Decoder{cfg: cfg, slots: make([]dgroup, cfg.MaxGroups)}, nil
}

// Config returns the configuration in effect, defaults applied.
func (d *Decoder) Config() DecoderConfig { return d.cfg }

// Stats returns the counters so far.
func (d *Decoder) Stats() DecoderStats { return d.stats }

// AddSource files a received source packet. pkt is copied. It returns the
// data packets this arrival let the decoder rebuild (usually none; the
// slice and packets are valid until the next call). Rejected packets return
// an error wrapping ErrMalformed, ErrInconsistent, ErrOutOfWindow or
// ErrTooLarge and are counted; late and duplicate packets are counted and
// ignored without error.
func (d *Decoder) AddSource(now time.Time, tag SourceTag, pkt []byte) ([]Recovered, error) {
	d.OnTimer(now)
	if tag.Index >= MaxDataShards {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: source group %d: index %d, max %d", ErrMalformed, tag.GroupID, tag.Index, MaxDataShards-1)
	}
	if len(pkt) > d.cfg.MaxPacketSize {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: source group %d index %d: %d bytes, max %d", ErrTooLarge, tag.GroupID, tag.Index, len(pkt), d.cfg.MaxPacketSize)
	}
	g, err := d.group(tag.GroupID, now)
	if err != nil {
		return nil, err
	}
	idx, size := int(tag.Index), LengthPrefixSize+len(pkt)
	if g.state == slotDone {
		d.stats.Duplicates++
		return nil, nil
	}
	if g.k > 0 {
		if idx >= g.k {
			d.stats.Malformed++
			return nil, fmt.Errorf("%w: source group %d: index %d, group has k %d", ErrInconsistent, g.id, idx, g.k)
		}
		if size > g.shardLen {
			d.stats.Malformed++
			return nil, fmt.Errorf("%w: source group %d index %d: %d bytes, shards are %d", ErrInconsistent, g.id, idx, len(pkt), g.shardLen-LengthPrefixSize)
		}
	}
	if g.shards[idx] != nil {
		d.stats.Duplicates++
		return nil, nil
	}
	buf := d.getBuf(g)
	if buf == nil {
		return nil, nil // counted by getBuf
	}
	buf = buf[:size]
	binary.BigEndian.PutUint16(buf, uint16(len(pkt)))
	copy(buf[LengthPrefixSize:], pkt)
	g.shards[idx] = buf
	g.nSrc++
	g.maxIdx = max(g.maxIdx, idx)
	g.maxLen = max(g.maxLen, size)
	d.stats.SourcePackets++
	return d.progress(g), nil
}

// AddRepairPacket parses a repair packet (header and shard, as built by
// Encoder.AppendNextRepair) and files it like AddRepair. Unparsable
// packets are counted as malformed.
func (d *Decoder) AddRepairPacket(now time.Time, b []byte) ([]Recovered, error) {
	h, shard, err := ParseRepair(b)
	if err != nil {
		d.stats.Malformed++
		return nil, err
	}
	return d.AddRepair(now, h, shard)
}

// AddRepair files a received repair shard with its header. shard is
// copied. It returns the data packets rebuilt as a result, valid until the
// next call; errors and counters as for AddSource.
func (d *Decoder) AddRepair(now time.Time, h RepairHeader, shard []byte) ([]Recovered, error) {
	d.OnTimer(now)
	if err := h.Validate(); err != nil {
		d.stats.Malformed++
		return nil, err
	}
	if len(shard) != int(h.ShardLen) {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: repair group %d index %d: shard is %d bytes, header says %d", ErrMalformed, h.GroupID, h.Index, len(shard), h.ShardLen)
	}
	if int(h.ShardLen) > d.cfg.MaxPacketSize+LengthPrefixSize {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: repair group %d: shard length %d, max %d", ErrTooLarge, h.GroupID, h.ShardLen, d.cfg.MaxPacketSize+LengthPrefixSize)
	}
	g, err := d.group(h.GroupID, now)
	if err != nil {
		return nil, err
	}
	if g.state == slotDone {
		d.stats.Duplicates++
		return nil, nil
	}
	k, m, sl := int(h.K), int(h.M), int(h.ShardLen)
	if g.k > 0 {
		if g.k != k || g.m != m || g.shardLen != sl || g.scheme != h.Scheme {
			d.stats.Malformed++
			return nil, fmt.Errorf("%w: repair group %d: %v k %d m %d shard length %d, group has %v k %d m %d shard length %d",
				ErrInconsistent, g.id, h.Scheme, k, m, sl, g.scheme, g.k, g.m, g.shardLen)
		}
	} else {
		if g.maxIdx >= k {
			d.stats.Malformed++
			return nil, fmt.Errorf("%w: repair group %d: k %d, but source index %d arrived", ErrInconsistent, g.id, k, g.maxIdx)
		}
		if g.maxLen > sl {
			d.stats.Malformed++
			return nil, fmt.Errorf("%w: repair group %d: shard length %d, but a %d-byte source arrived", ErrInconsistent, g.id, sl, g.maxLen-LengthPrefixSize)
		}
		g.k, g.m, g.shardLen, g.scheme = k, m, sl, h.Scheme
	}
	if g.shards[h.Index] != nil {
		d.stats.Duplicates++
		return nil, nil
	}
	if g.nSrc == g.k { // nothing lost
		d.stats.RepairPackets++
		d.finish(g)
		return nil, nil
	}
	buf := d.getBuf(g)
	if buf == nil {
		return nil, nil
	}
	buf = buf[:sl]
	copy(buf, shard)
	g.shards[h.Index] = buf
	g.nRep++
	d.stats.RepairPackets++
	return d.progress(g), nil
}

// group finds or opens the slot for id, enforcing the window.
func (d *Decoder) group(id uint32, now time.Time) (*dgroup, error) {
	if !d.hiSet {
		d.hi, d.hiSet = id, true
	}
	diff := int64(int32(id - d.hi))
	if diff > int64(d.cfg.MaxGroupJump) {
		d.stats.OutOfWindow++
		return nil, fmt.Errorf("%w: group %d is %d groups ahead of newest %d (max %d)", ErrOutOfWindow, id, diff, d.hi, d.cfg.MaxGroupJump)
	}
	if diff <= -int64(len(d.slots)) {
		d.stats.OutOfWindow++
		return nil, fmt.Errorf("%w: group %d is %d groups behind newest %d (window %d)", ErrOutOfWindow, id, -diff, d.hi, len(d.slots))
	}
	if diff > 0 {
		d.hi = id
	}
	g := &d.slots[id%uint32(len(d.slots))]
	if g.state != slotEmpty && g.id != id {
		d.drop(g) // an older group the window has moved past
	}
	if g.state == slotEmpty {
		if g.shards == nil {
			g.shards = make([][]byte, MaxDataShards+MaxParityShards)
		}
		g.id, g.state, g.first = id, slotActive, now
		g.k, g.m, g.shardLen, g.scheme = 0, 0, 0, 0
		g.nSrc, g.nRep, g.maxIdx, g.maxLen = 0, 0, -1, 0
		if t := now.Add(d.cfg.GroupTimeout); d.expiry.IsZero() || t.Before(d.expiry) {
			d.expiry = t
		}
	}
	return g, nil
}

// progress rebuilds the group's missing data once k shards are present.
func (d *Decoder) progress(g *dgroup) []Recovered {
	if g.k == 0 || g.nSrc+g.nRep < g.k {
		return nil
	}
	if g.nSrc == g.k {
		d.finish(g)
		return nil
	}
	work := d.work[:g.k+g.m]
	missing := 0
	for i := 0; i < g.k; i++ {
		s := g.shards[i]
		if s == nil {
			if missing == len(d.scratch) {
				d.scratch = append(d.scratch, make([]byte, 0, d.cfg.MaxPacketSize+LengthPrefixSize))
			}
			work[i] = d.scratch[missing][:0]
			missing++
			continue
		}
		l := len(s)
		s = s[:g.shardLen]
		clear(s[l:])
		work[i] = s
	}
	for j := g.k; j < g.k+g.m; j++ {
		work[j] = g.shards[j]
	}
	var code Code = &d.rs
	if g.scheme == SchemeXOR {
		code = &d.xor
	}
	d.out = d.out[:0]
	if err := code.Reconstruct(work, g.k); err != nil {
		d.stats.Unrecoverable++
		d.finish(g)
		return nil
	}
	for i := 0; i < g.k; i++ {
		if g.shards[i] != nil {
			continue
		}
		s := work[i]
		n := int(binary.BigEndian.Uint16(s))
		if n > g.shardLen-LengthPrefixSize {
			// The shards were not what their headers said: the sender
			// coded other bytes than those that arrived.
			d.stats.Malformed++
			continue
		}
		d.out = append(d.out, Recovered{Tag: SourceTag{GroupID: g.id, Index: uint8(i)}, Packet: s[LengthPrefixSize : LengthPrefixSize+n]})
	}
	d.stats.Recovered += uint64(len(d.out))
	d.stats.RecoveredGroups++
	d.finish(g)
	return d.out
}

// finish marks the group complete, keeping its ID so late packets are
// recognised, and returns its buffers.
func (d *Decoder) finish(g *dgroup) {
	d.release(g)
	g.state = slotDone
}

// drop forgets an active group that can no longer complete.
func (d *Decoder) drop(g *dgroup) {
	if g.state == slotActive {
		d.stats.Expired++
		if g.k > 0 && g.nSrc < g.k {
			d.stats.Unrecoverable++
		}
	}
	d.release(g)
	g.state = slotEmpty
}

func (d *Decoder) release(g *dgroup) {
	for i, s := range g.shards {
		if s != nil {
			d.free = append(d.free, s[:0])
			g.shards[i] = nil
		}
	}
}

// getBuf returns a shard buffer, dropping the oldest other incomplete group
// when all MaxBufferedShards are in use; nil (counted as Expired) if even
// that frees nothing.
func (d *Decoder) getBuf(keep *dgroup) []byte {
	if n := len(d.free); n > 0 {
		b := d.free[n-1]
		d.free = d.free[:n-1]
		return b
	}
	if d.nbufs < d.cfg.MaxBufferedShards {
		d.nbufs++
		return make([]byte, 0, d.cfg.MaxPacketSize+LengthPrefixSize)
	}
	var oldest *dgroup
	for i := range d.slots {
		g := &d.slots[i]
		if g == keep || g.state != slotActive || g.nSrc+g.nRep == 0 {
			continue
		}
		if oldest == nil || g.first.Before(oldest.first) {
			oldest = g
		}
	}
	if oldest == nil {
		d.stats.Expired++
		return nil
	}
	d.drop(oldest)
	return d.getBuf(keep)
}

// NextDeadline returns when the oldest incomplete group may expire (the
// zero Time if none is tracked). Calling OnTimer then frees its buffers
// early; it is optional, as Add calls expire groups too.
func (d *Decoder) NextDeadline() time.Time { return d.expiry }

// OnTimer drops incomplete groups older than GroupTimeout at now.
func (d *Decoder) OnTimer(now time.Time) {
	if d.expiry.IsZero() || now.Before(d.expiry) {
		return
	}
	var next time.Time
	for i := range d.slots {
		g := &d.slots[i]
		if g.state != slotActive {
			continue
		}
		t := g.first.Add(d.cfg.GroupTimeout)
		if !now.Before(t) {
			d.drop(g)
			continue
		}
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	d.expiry = next
}

// Reset forgets every group and the window position (for example after the
// peer restarted its encoder). Buffers are kept for reuse; counters too.
func (d *Decoder) Reset() {
	for i := range d.slots {
		d.release(&d.slots[i])
		d.slots[i].state = slotEmpty
	}
	d.hiSet = false
	d.expiry = time.Time{}
}
