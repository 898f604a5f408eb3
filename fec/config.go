package fec

import (
	"fmt"
	"math"
	"time"
)

// Defaults applied to zero configuration fields.
const (
	// DefaultK is the number of data packets in a full group.
	DefaultK = 10
	// DefaultM is the parity count of a full Reed-Solomon group.
	DefaultM = 3
	// DefaultMaxGroupDelay bounds how long the oldest packet of an open
	// group waits before the group closes and its parity is sent.
	DefaultMaxGroupDelay = 2 * time.Millisecond
	// DefaultMaxPacketSize is the largest source packet accepted.
	DefaultMaxPacketSize = 1500
	// DefaultTargetGroupLoss is the adaptive target for the probability
	// that more than m of a group's k+m packets are lost.
	DefaultTargetGroupLoss = 1e-3
	// DefaultMaxGroups is the decoder's window: groups tracked at once.
	DefaultMaxGroups = 128
	// DefaultGroupTimeout is how long the decoder keeps an incomplete
	// group after its first packet arrived.
	DefaultGroupTimeout = 500 * time.Millisecond
	// DefaultMaxBufferedShards bounds the decoder's shard buffers
	// (each MaxPacketSize+2 bytes): about 1.5 MB at the defaults.
	DefaultMaxBufferedShards = 1024
	// DefaultMaxGroupJump is how far ahead of the newest group a group ID
	// may be before the decoder rejects it as outside the window.
	DefaultMaxGroupJump = 1 << 14
	// DefaultSparseRepairRate bounds the extra repairs of sparse groups:
	// 64 KiB/s (0.5 Mbit/s, 1% of a 50 Mbit/s path). Three extra
	// 230-byte repairs per 200-byte message at 50 Hz take 35 KB/s.
	DefaultSparseRepairRate = 64 << 10
	// DefaultSparseMaxM bounds the repairs of a sparse RS group and
	// DefaultMaxCopies the parity copies of a one-packet XOR group: 6, for
	// a lone message's failure rate under P4's bursts of about 0.4% (4
	// repairs leave 1%, which put the pooled p99 at 15–35 ms depending on
	// the seeds; 6 keeps it at 14–18 ms over seeds 1–50).
	DefaultSparseMaxM = 6
	DefaultMaxCopies  = 6
)

// EncoderConfig configures an Encoder. The zero value is usable: zero
// fields take the defaults (Reed-Solomon 10+3, 2 ms delay bound, no
// interleaving, adaptive m off until SetLossRate is called). It is a plain
// value, copied by NewEncoder.
type EncoderConfig struct {
	// Scheme selects the code; zero means SchemeReedSolomon.
	Scheme Scheme
	// K is the number of data packets in a full group, 1..MaxDataShards;
	// zero means DefaultK.
	K int
	// M is the parity count of a full group before any SetLossRate call;
	// zero means DefaultM for Reed-Solomon. XOR always uses 1.
	M int
	// MinM and MaxM bound the adaptive parity count; zero means 1 and M.
	MinM, MaxM int
	// TargetGroupLoss is the adaptive target: SetLossRate picks the
	// smallest m with P(more than m of k+m lost) below it. Zero means
	// DefaultTargetGroupLoss.
	TargetGroupLoss float64
	// MaxGroupDelay closes a group when its oldest packet has waited this
	// long. Zero means DefaultMaxGroupDelay; negative means "size only"
	// (kcp-go's behaviour, for comparisons).
	MaxGroupDelay time.Duration
	// Interleave is the depth d: consecutive packets go to d different
	// open groups, so a burst of up to d losses costs each group one.
	// Zero means 1 (no interleaving); at most 16.
	Interleave int
	// MaxPacketSize is the largest source packet; zero means
	// DefaultMaxPacketSize. At most MaxShardSize-2.
	MaxPacketSize int
	// FirstGroupID is the ID of the first group (random in a session, to
	// make stale packets of an earlier session unlikely to match).
	FirstGroupID uint32
	// SparseRepairRate bounds, in bytes per second (repair header and
	// shard), the repairs that sparse groups get beyond the regular rule
	// (SetBurstLoss, sparse.go): a token bucket refilled at this rate that
	// holds a quarter second of it. Zero means DefaultSparseRepairRate;
	// negative turns the extra repairs off.
	SparseRepairRate int
	// MaxCopies (XOR only) bounds how many times the parity of a sparse
	// group of one packet is sent: it is a copy of the packet, so each
	// copy repairs the group alone, as an RS(1, m) group would with m =
	// MaxCopies. Zero means DefaultMaxCopies; at most MaxParityShards.
	// Full XOR groups always send one parity packet.
	MaxCopies int
	// SparseMaxM (Reed-Solomon) bounds the repairs of a sparse group
	// (SetBurstLoss), which may exceed MaxM: a lone message's repairs are
	// cheap in bytes and paid from SparseRepairRate. Zero means
	// DefaultSparseMaxM, never below MaxM; at most MaxParityShards.
	SparseMaxM int
}

func (c EncoderConfig) withDefaults() (EncoderConfig, error) {
	if c.Scheme == 0 {
		c.Scheme = SchemeReedSolomon
	}
	if c.K == 0 {
		c.K = DefaultK
	}
	switch c.Scheme {
	case SchemeXOR:
		if c.M == 0 {
			c.M = 1
		}
		if c.M != 1 || c.MinM > 1 || c.MaxM > 1 {
			return c, fmt.Errorf("%w: xor m %d (min %d, max %d), must be 1", ErrInvalidConfig, c.M, c.MinM, c.MaxM)
		}
	case SchemeReedSolomon:
		if c.M == 0 {
			c.M = DefaultM
		}
	default:
		return c, fmt.Errorf("%w: scheme %d unknown", ErrInvalidConfig, uint8(c.Scheme))
	}
	if c.MinM == 0 {
		c.MinM = 1
	}
	if c.MaxM == 0 {
		c.MaxM = max(c.M, c.MinM)
	}
	if c.TargetGroupLoss == 0 {
		c.TargetGroupLoss = DefaultTargetGroupLoss
	}
	if c.MaxGroupDelay == 0 {
		c.MaxGroupDelay = DefaultMaxGroupDelay
	}
	if c.Interleave == 0 {
		c.Interleave = 1
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.SparseRepairRate == 0 {
		c.SparseRepairRate = DefaultSparseRepairRate
	}
	if c.MaxCopies == 0 {
		c.MaxCopies = DefaultMaxCopies
	}
	if c.SparseMaxM == 0 {
		c.SparseMaxM = max(DefaultSparseMaxM, c.MaxM)
	}
	switch {
	case c.K < 1 || c.K > MaxDataShards:
		return c, fmt.Errorf("%w: k %d outside [1, %d]", ErrInvalidConfig, c.K, MaxDataShards)
	case c.M < 1 || c.M > MaxParityShards:
		return c, fmt.Errorf("%w: m %d outside [1, %d]", ErrInvalidConfig, c.M, MaxParityShards)
	case c.MinM < 1 || c.MinM > c.MaxM || c.MaxM > MaxParityShards:
		return c, fmt.Errorf("%w: min m %d / max m %d, need 1 <= min <= max <= %d", ErrInvalidConfig, c.MinM, c.MaxM, MaxParityShards)
	case c.M < c.MinM || c.M > c.MaxM:
		return c, fmt.Errorf("%w: m %d outside [min m %d, max m %d]", ErrInvalidConfig, c.M, c.MinM, c.MaxM)
	case !(c.TargetGroupLoss > 0 && c.TargetGroupLoss < 1):
		return c, fmt.Errorf("%w: target group loss %g outside (0, 1)", ErrInvalidConfig, c.TargetGroupLoss)
	case c.Interleave < 1 || c.Interleave > 16:
		return c, fmt.Errorf("%w: interleave %d outside [1, 16]", ErrInvalidConfig, c.Interleave)
	case c.MaxPacketSize < 1 || c.MaxPacketSize > MaxShardSize-LengthPrefixSize:
		return c, fmt.Errorf("%w: max packet size %d outside [1, %d]", ErrInvalidConfig, c.MaxPacketSize, MaxShardSize-LengthPrefixSize)
	case c.SparseMaxM < c.MaxM || c.SparseMaxM > MaxParityShards:
		return c, fmt.Errorf("%w: sparse max m %d outside [max m %d, %d]", ErrInvalidConfig, c.SparseMaxM, c.MaxM, MaxParityShards)
	case c.MaxCopies < 1 || c.MaxCopies > MaxParityShards:
		return c, fmt.Errorf("%w: max copies %d outside [1, %d]", ErrInvalidConfig, c.MaxCopies, MaxParityShards)
	}
	return c, nil
}

// DecoderConfig configures a Decoder. The zero value is usable: zero fields
// take the defaults. The decoder accepts any scheme, k and m within the
// protocol limits, so it need not match the peer's EncoderConfig, except
// that MaxPacketSize must be at least the peer's.
type DecoderConfig struct {
	// MaxPacketSize is the largest source packet; zero means
	// DefaultMaxPacketSize. Repair shards longer than MaxPacketSize+2 are
	// rejected.
	MaxPacketSize int
	// MaxGroups is the window: how many consecutive group IDs are tracked
	// (older ones are forgotten). Zero means DefaultMaxGroups.
	MaxGroups int
	// GroupTimeout expires an incomplete group this long after its first
	// packet. Zero means DefaultGroupTimeout.
	GroupTimeout time.Duration
	// MaxBufferedShards caps the shard buffers across all groups; when
	// they run out the oldest incomplete group is dropped. Zero means
	// DefaultMaxBufferedShards.
	MaxBufferedShards int
	// MaxGroupJump rejects group IDs more than this many groups ahead of
	// the newest seen. Zero means DefaultMaxGroupJump.
	MaxGroupJump int
}

func (c DecoderConfig) withDefaults() (DecoderConfig, error) {
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.MaxGroups == 0 {
		c.MaxGroups = DefaultMaxGroups
	}
	if c.GroupTimeout == 0 {
		c.GroupTimeout = DefaultGroupTimeout
	}
	if c.MaxBufferedShards == 0 {
		c.MaxBufferedShards = DefaultMaxBufferedShards
	}
	if c.MaxGroupJump == 0 {
		c.MaxGroupJump = DefaultMaxGroupJump
	}
	switch {
	case c.MaxPacketSize < 1 || c.MaxPacketSize > MaxShardSize-LengthPrefixSize:
		return c, fmt.Errorf("%w: max packet size %d outside [1, %d]", ErrInvalidConfig, c.MaxPacketSize, MaxShardSize-LengthPrefixSize)
	case c.MaxGroups < 1 || c.MaxGroups > 1<<16:
		return c, fmt.Errorf("%w: max groups %d outside [1, %d]", ErrInvalidConfig, c.MaxGroups, 1<<16)
	case c.GroupTimeout < 0:
		return c, fmt.Errorf("%w: group timeout %v negative", ErrInvalidConfig, c.GroupTimeout)
	case c.MaxBufferedShards < MaxDataShards+MaxParityShards:
		return c, fmt.Errorf("%w: max buffered shards %d below one full group (%d)", ErrInvalidConfig, c.MaxBufferedShards, MaxDataShards+MaxParityShards)
	case c.MaxGroupJump < 1 || c.MaxGroupJump > math.MaxInt32/2:
		return c, fmt.Errorf("%w: max group jump %d outside [1, %d]", ErrInvalidConfig, c.MaxGroupJump, math.MaxInt32/2)
	}
	return c, nil
}
