package fec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newDecoder(t testing.TB, cfg DecoderConfig) *Decoder {
	t.Helper()
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	return d
}

func TestDecoderConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  DecoderConfig
		want string
	}{
		{"packet_size", DecoderConfig{MaxPacketSize: -1}, "max packet size -1"},
		{"groups", DecoderConfig{MaxGroups: 1<<16 + 1}, "max groups 65537"},
		{"timeout", DecoderConfig{GroupTimeout: -time.Second}, "group timeout -1s negative"},
		{"buffers", DecoderConfig{MaxBufferedShards: 10}, "max buffered shards 10 below one full group (80)"},
		{"jump", DecoderConfig{MaxGroupJump: -3}, "max group jump -3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDecoder(tc.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestDecoderRejectsBadInput feeds one good source packet of group 100
// (index 1, 5 bytes) and one good repair (k 4, m 2, shard length 12) in a
// fresh decoder, then the bad packet, which must be rejected, counted and
// leave the group intact.
func TestDecoderRejectsBadInput(t *testing.T) {
	good := RepairHeader{GroupID: 100, Scheme: SchemeReedSolomon, Index: 4, K: 4, M: 2, ShardLen: 12}
	type pkt struct {
		repair bool
		hdr    RepairHeader
		shard  []byte
		tag    SourceTag
		src    []byte
	}
	src := func(idx uint8, n int) pkt { return pkt{tag: SourceTag{GroupID: 100, Index: idx}, src: make([]byte, n)} }
	rep := func(mod func(h *RepairHeader)) pkt {
		h := good
		if mod != nil {
			mod(&h)
		}
		return pkt{repair: true, hdr: h, shard: make([]byte, h.ShardLen)}
	}
	for _, tc := range []struct {
		name    string
		setup   []pkt
		bad     pkt
		wantErr error
		want    string
	}{
		{"repair_k_out_of_range", nil, rep(func(h *RepairHeader) { h.K = 65; h.Index = 65 }), ErrMalformed, "k 65 outside [1, 64]"},
		{"repair_m_out_of_range", nil, rep(func(h *RepairHeader) { h.M = 17 }), ErrMalformed, "m 17 outside [1, 16]"},
		{"repair_shard_size_mismatch", nil, pkt{repair: true, hdr: good, shard: make([]byte, 11)}, ErrMalformed, "shard is 11 bytes, header says 12"},
		{"repair_shard_too_long", nil, rep(func(h *RepairHeader) { h.ShardLen = 1503 }), ErrTooLarge, "shard length 1503, max 1502"},
		{"repair_k_differs", []pkt{rep(nil)}, rep(func(h *RepairHeader) { h.K = 5; h.Index = 5 }), ErrInconsistent, "k 5 m 2 shard length 12, group has rs k 4"},
		{"repair_shard_len_differs", []pkt{rep(nil)}, rep(func(h *RepairHeader) { h.Index = 5; h.ShardLen = 13 }), ErrInconsistent, "shard length 13"},
		{"repair_scheme_differs", []pkt{rep(nil)}, rep(func(h *RepairHeader) { h.Scheme = SchemeXOR; h.M = 1 }), ErrInconsistent, "xor k 4 m 1"},
		{"repair_k_below_source_index", []pkt{src(3, 5)}, rep(func(h *RepairHeader) { h.K = 3; h.Index = 3 }), ErrInconsistent, "k 3, but source index 3 arrived"},
		{"repair_shorter_than_source", []pkt{src(1, 20)}, rep(nil), ErrInconsistent, "shard length 12, but a 20-byte source arrived"},
		{"source_index_beyond_k", []pkt{rep(nil)}, src(4, 5), ErrInconsistent, "index 4, group has k 4"},
		{"source_longer_than_shards", []pkt{rep(nil)}, src(0, 11), ErrInconsistent, "11 bytes, shards are 10"},
		{"source_index_out_of_range", nil, pkt{tag: SourceTag{GroupID: 100, Index: 64}, src: []byte{1}}, ErrMalformed, "index 64, max 63"},
		{"source_too_large", nil, src(0, 1501), ErrTooLarge, "1501 bytes, max 1500"},
		{"group_far_ahead", []pkt{src(1, 5)}, pkt{tag: SourceTag{GroupID: 100 + DefaultMaxGroupJump + 1}, src: []byte{1}}, ErrOutOfWindow, "group 16485 is 16385 groups ahead of newest 100 (max 16384)"},
		{"group_far_ahead_wrapping", []pkt{src(1, 5)}, rep(func(h *RepairHeader) { h.GroupID = 100 + 1<<31 }), ErrOutOfWindow, "groups behind newest 100"},
		{"group_too_old", []pkt{src(1, 5)}, pkt{tag: SourceTag{GroupID: 0xFFFFFFE4 /* 100 - 128, wrapped */}, src: []byte{1}}, ErrOutOfWindow, "group 4294967268 is 128 groups behind newest 100 (window 128)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(t, DecoderConfig{})
			feed := func(p pkt) ([]Recovered, error) {
				if p.repair {
					return d.AddRepair(t0, p.hdr, p.shard)
				}
				return d.AddSource(t0, p.tag, p.src)
			}
			for _, p := range tc.setup {
				_, err := feed(p)
				require.NoError(t, err)
			}
			before := d.Stats()
			rec, err := feed(tc.bad)
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, rec)
			after := d.Stats()
			require.Equal(t, before.Malformed+before.OutOfWindow+1, after.Malformed+after.OutOfWindow)
			require.Equal(t, before.SourcePackets+before.RepairPackets, after.SourcePackets+after.RepairPackets)
		})
	}
}

func TestDecoderRepairPacketParseErrorsCounted(t *testing.T) {
	d := newDecoder(t, DecoderConfig{})
	_, err := d.AddRepairPacket(t0, []byte{1, 2, 3})
	require.ErrorIs(t, err, ErrMalformed)
	require.Equal(t, uint64(1), d.Stats().Malformed)
}

func TestDecoderDuplicatesAndLatePackets(t *testing.T) {
	pkts := randPackets(rand.New(rand.NewPCG(8, 9)), 10, 50, 60)
	wire := encodeAll(t, EncoderConfig{K: 10, M: 3}, pkts, 0)
	d := newDecoder(t, DecoderConfig{})
	for i, w := range wire {
		if i == 0 {
			continue // lost, rebuilt from the first repair
		}
		if w.repair {
			_, err := d.AddRepairPacket(t0, w.data)
			require.NoError(t, err)
		} else {
			_, err := d.AddSource(t0, w.tag, w.data)
			require.NoError(t, err)
			_, err = d.AddSource(t0, w.tag, w.data) // duplicate
			require.NoError(t, err)
		}
	}
	// The late original of packet 0 arrives after its recovery.
	rec, err := d.AddSource(t0, wire[0].tag, wire[0].data)
	require.NoError(t, err)
	require.Empty(t, rec)
	s := d.Stats()
	require.Equal(t, uint64(1), s.Recovered)
	require.Equal(t, uint64(9+1+2), s.Duplicates, "9 duplicate sources, the late one, 2 surplus repairs")
}

func TestDecoderGroupIDWraps(t *testing.T) {
	pkts := randPackets(rand.New(rand.NewPCG(10, 11)), 40, 1, 100)
	wire := encodeAll(t, EncoderConfig{Scheme: SchemeXOR, K: 4, FirstGroupID: 0xFFFFFFFE, MaxGroupDelay: -1}, pkts, 0)
	ids := map[uint32]bool{}
	for _, w := range wire {
		if !w.repair {
			ids[w.tag.GroupID] = true
		}
	}
	require.True(t, ids[0xFFFFFFFF] && ids[0] && ids[7])
	lost := map[int]bool{}
	for i, w := range wire {
		if !w.repair && w.tag.Index == 2 {
			lost[i] = true
		}
	}
	got, d := deliver(t, wire, func(i int, _ wirePkt) bool { return !lost[i] })
	require.Len(t, got, 10)
	require.Zero(t, d.Stats().OutOfWindow)
}

func TestDecoderExpiresIncompleteGroups(t *testing.T) {
	d := newDecoder(t, DecoderConfig{GroupTimeout: 100 * time.Millisecond})
	// Group 1: a source and a repair of k 3; two sources missing for good.
	_, err := d.AddSource(t0, SourceTag{GroupID: 1, Index: 0}, []byte("a"))
	require.NoError(t, err)
	_, err = d.AddRepair(t0, RepairHeader{GroupID: 1, Scheme: SchemeXOR, Index: 3, K: 3, M: 1, ShardLen: 3}, make([]byte, 3))
	require.NoError(t, err)
	// Group 2: only a source; its repair never comes.
	_, err = d.AddSource(t0.Add(50*time.Millisecond), SourceTag{GroupID: 2, Index: 0}, []byte("b"))
	require.NoError(t, err)
	require.Equal(t, t0.Add(100*time.Millisecond), d.NextDeadline())

	d.OnTimer(t0.Add(99 * time.Millisecond))
	require.Zero(t, d.Stats().Expired)
	d.OnTimer(t0.Add(100 * time.Millisecond))
	require.Equal(t, uint64(1), d.Stats().Expired)
	require.Equal(t, uint64(1), d.Stats().Unrecoverable)
	require.Equal(t, t0.Add(150*time.Millisecond), d.NextDeadline())
	// Expiry also happens inside Add calls.
	_, err = d.AddSource(t0.Add(time.Second), SourceTag{GroupID: 3, Index: 0}, []byte("c"))
	require.NoError(t, err)
	require.Equal(t, uint64(2), d.Stats().Expired)
	require.Equal(t, uint64(1), d.Stats().Unrecoverable, "group 2's k was never known")
	require.Equal(t, 3, d.nbufs, "buffers of expired groups are reused")
	require.Len(t, d.free, 2)
}

// TestDecoderMemoryBounded floods the decoder with source packets of
// distinct groups whose repairs never come: it never holds more than
// MaxBufferedShards buffers and keeps accepting the newest groups.
func TestDecoderMemoryBounded(t *testing.T) {
	const maxBufs = 80
	d := newDecoder(t, DecoderConfig{MaxBufferedShards: maxBufs, MaxGroups: 64})
	rng := rand.New(rand.NewPCG(12, 13))
	pkt := make([]byte, 1500)
	for i := range 10000 {
		tag := SourceTag{GroupID: uint32(i / 3), Index: uint8(rng.IntN(MaxDataShards))}
		_, err := d.AddSource(t0, tag, pkt)
		require.NoError(t, err)
		require.LessOrEqual(t, d.nbufs, maxBufs)
	}
	require.Equal(t, maxBufs, d.nbufs)
	require.Positive(t, d.Stats().Expired)
	// A full group still recovers under this pressure.
	pkts := randPackets(rng, 10, 100, 1500)
	e, err := NewEncoder(EncoderConfig{K: 10, M: 3, FirstGroupID: 4000})
	require.NoError(t, err)
	var got []Recovered
	for i, p := range pkts {
		tag, err := e.AddSource(t0, p)
		require.NoError(t, err)
		if i >= 3 {
			_, err = d.AddSource(t0, tag, p)
			require.NoError(t, err)
		}
	}
	for {
		h, shard, ok := e.NextRepair()
		if !ok {
			break
		}
		rec, err := d.AddRepair(t0, h, shard)
		require.NoError(t, err)
		got = append(got, rec...)
	}
	require.Len(t, got, 3)
	for _, r := range got {
		require.Equal(t, pkts[r.Tag.Index], r.Packet)
	}
}

// TestMonteCarloRS10x3 drops each packet (source and repair alike) with
// probability 3% and checks that at least 95% of the lost source packets
// are rebuilt.
func TestMonteCarloRS10x3(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	pkts := randPackets(rng, 20000, 100, 1200)
	wire := encodeAll(t, EncoderConfig{K: 10, M: 3, MaxGroupDelay: -1}, pkts, 0)
	lostData := 0
	got, d := deliver(t, wire, func(_ int, w wirePkt) bool {
		if rng.Float64() < 0.03 {
			if !w.repair {
				lostData++
			}
			return false
		}
		return true
	})
	ratio := float64(len(got)) / float64(lostData)
	t.Logf("RS(10,3) at 3%%: %d source packets lost, %d rebuilt (%.2f%%), stats %+v", lostData, len(got), 100*ratio, d.Stats())
	require.GreaterOrEqual(t, ratio, 0.95)
	for tag, p := range got {
		require.Equal(t, pkts[int(tag.GroupID)*10+int(tag.Index)], p)
	}
}

// TestMonteCarloXOR10 drops 1% of packets: every group that lost exactly
// one packet must have it back.
func TestMonteCarloXOR10(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	pkts := randPackets(rng, 20000, 100, 1200)
	wire := encodeAll(t, EncoderConfig{Scheme: SchemeXOR, K: 10, MaxGroupDelay: -1}, pkts, 0)
	lostPerGroup := map[uint32][]SourceTag{}
	dropped := make([]bool, len(wire))
	for i := range wire {
		dropped[i] = rng.Float64() < 0.01
	}
	var gid uint32
	for i, w := range wire { // repairs follow their group's sources
		if !w.repair {
			gid = w.tag.GroupID
		}
		if dropped[i] {
			lostPerGroup[gid] = append(lostPerGroup[gid], w.tag)
		}
	}
	got, _ := deliver(t, wire, func(i int, _ wirePkt) bool { return !dropped[i] })
	single, lostData := 0, 0
	for i, w := range wire {
		if dropped[i] && !w.repair {
			lostData++
		}
	}
	for i, w := range wire {
		if !dropped[i] || w.repair || len(lostPerGroup[w.tag.GroupID]) != 1 {
			continue
		}
		single++
		require.Equal(t, pkts[int(w.tag.GroupID)*10+int(w.tag.Index)], got[w.tag])
	}
	t.Logf("XOR(10) at 1%%: %d source packets lost, %d alone in their group, %d rebuilt", lostData, single, len(got))
	require.Equal(t, single, len(got))
	require.Greater(t, single, 100)
}
