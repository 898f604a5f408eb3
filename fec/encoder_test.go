package fec

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEncoderConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  EncoderConfig
		want string
	}{
		{"k_too_big", EncoderConfig{K: 65}, "k 65 outside [1, 64]"},
		{"m_too_big", EncoderConfig{M: 17, MaxM: 17}, "m 17 outside [1, 16]"},
		{"xor_m_two", EncoderConfig{Scheme: SchemeXOR, M: 2}, "xor m 2"},
		{"scheme_unknown", EncoderConfig{Scheme: 5}, "scheme 5 unknown"},
		{"min_above_max", EncoderConfig{MinM: 4, MaxM: 2}, "min m 4 / max m 2"},
		{"m_below_min", EncoderConfig{M: 1, MinM: 2, MaxM: 4}, "m 1 outside [min m 2, max m 4]"},
		{"interleave", EncoderConfig{Interleave: 17}, "interleave 17 outside [1, 16]"},
		{"target", EncoderConfig{TargetGroupLoss: 1.5}, "target group loss 1.5"},
		{"packet_size", EncoderConfig{MaxPacketSize: 70000}, "max packet size 70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEncoder(tc.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
	e, err := NewEncoder(EncoderConfig{})
	require.NoError(t, err)
	cfg := e.Config()
	require.Equal(t, SchemeReedSolomon, cfg.Scheme)
	require.Equal(t, 10, cfg.K)
	require.Equal(t, 3, cfg.M)
	require.Equal(t, DefaultMaxGroupDelay, cfg.MaxGroupDelay)
}

func TestEncoderRejectsOversizedPacket(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{MaxPacketSize: 100})
	require.NoError(t, err)
	_, err = e.AddSource(t0, make([]byte, 101))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "101 bytes, max 100")
	tag, err := e.AddSource(t0, make([]byte, 100))
	require.NoError(t, err)
	require.Equal(t, SourceTag{}, tag)
}

// TestGroupClosesBySizeOrDelay checks both closing rules and the deadline
// the run loop must arm.
func TestGroupClosesBySizeOrDelay(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{K: 4, M: 2, MaxGroupDelay: 5 * time.Millisecond, FirstGroupID: 100})
	require.NoError(t, err)
	require.True(t, e.NextDeadline().IsZero(), "no group open")

	// Size: four packets 1 ms apart close group 100 at once.
	now := t0
	for i := range 4 {
		tag, err := e.AddSource(now, []byte{byte(i)})
		require.NoError(t, err)
		require.Equal(t, SourceTag{GroupID: 100, Index: uint8(i)}, tag)
		if i < 3 {
			require.Zero(t, e.PendingRepairs())
			require.Equal(t, t0.Add(5*time.Millisecond), e.NextDeadline())
		}
		now = now.Add(time.Millisecond)
	}
	require.Equal(t, 2, e.PendingRepairs())
	require.True(t, e.NextDeadline().IsZero())
	for j := range 2 {
		h, shard, ok := e.NextRepair()
		require.True(t, ok)
		require.Equal(t, RepairHeader{GroupID: 100, Scheme: SchemeReedSolomon, Index: uint8(4 + j), K: 4, M: 2, ShardLen: 3}, h)
		require.Len(t, shard, 3)
	}
	_, _, ok := e.NextRepair()
	require.False(t, ok)

	// Delay: two packets, then the timer closes group 101 with k' = 2,
	// m scaled to ceil(2*2/4) = 1.
	start := now
	_, err = e.AddSource(now, []byte("hello"))
	require.NoError(t, err)
	_, err = e.AddSource(now.Add(3*time.Millisecond), []byte("hi"))
	require.NoError(t, err)
	require.Equal(t, start.Add(5*time.Millisecond), e.NextDeadline())
	e.OnTimer(start.Add(5*time.Millisecond - 1))
	require.Zero(t, e.PendingRepairs(), "not yet")
	e.OnTimer(start.Add(5 * time.Millisecond))
	require.Equal(t, 1, e.PendingRepairs())
	h, _, ok := e.NextRepair()
	require.True(t, ok)
	require.Equal(t, RepairHeader{GroupID: 101, Scheme: SchemeReedSolomon, Index: 2, K: 2, M: 1, ShardLen: 7}, h)
	require.Equal(t, uint64(1), e.Stats().GroupsByDelay)
	require.Equal(t, uint64(2), e.Stats().Groups)

	// AddSource past a deadline closes the old group before filing.
	_, err = e.AddSource(now, []byte("a"))
	require.NoError(t, err)
	tag, err := e.AddSource(now.Add(time.Second), []byte("b"))
	require.NoError(t, err)
	require.Equal(t, SourceTag{GroupID: 103, Index: 0}, tag)
	require.Equal(t, 1, e.PendingRepairs())
}

// TestTimeoutClosedGroupsRecover sends sparse traffic (one packet every
// 20 ms, as 50 Hz messages) and checks each packet's group closes within
// the delay bound and that a lost packet is rebuilt from its repair.
func TestTimeoutClosedGroupsRecover(t *testing.T) {
	pkts := randPackets(rand.New(rand.NewPCG(5, 6)), 20, 150, 200)
	e, err := NewEncoder(EncoderConfig{K: 10, M: 3, MaxGroupDelay: 2 * time.Millisecond})
	require.NoError(t, err)
	d, err := NewDecoder(DecoderConfig{})
	require.NoError(t, err)
	now := t0
	for i, p := range pkts {
		sent := now
		tag, err := e.AddSource(now, p)
		require.NoError(t, err)
		require.Equal(t, sent.Add(2*time.Millisecond), e.NextDeadline())
		if i%2 == 0 { // every other packet lost
			now = e.NextDeadline()
			e.OnTimer(now)
			h, shard, ok := e.NextRepair()
			require.True(t, ok)
			require.Equal(t, uint8(1), h.K)
			require.Equal(t, uint8(1), h.M, "ceil(3*1/10) = 1")
			rec, err := d.AddRepair(now, h, shard)
			require.NoError(t, err)
			require.Len(t, rec, 1)
			require.Equal(t, tag, rec[0].Tag)
			require.Equal(t, p, rec[0].Packet)
			require.LessOrEqual(t, now.Sub(sent), 2*time.Millisecond)
		} else {
			_, err := d.AddSource(now, tag, p)
			require.NoError(t, err)
			e.OnTimer(e.NextDeadline())
			h, shard, ok := e.NextRepair()
			require.True(t, ok)
			rec, err := d.AddRepair(now, h, shard)
			require.NoError(t, err)
			require.Empty(t, rec)
		}
		now = sent.Add(20 * time.Millisecond)
	}
	require.Equal(t, uint64(10), d.Stats().Recovered)
}

func TestSizeOnlyGroupsHaveNoDeadline(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{MaxGroupDelay: -1})
	require.NoError(t, err)
	_, err = e.AddSource(t0, []byte("x"))
	require.NoError(t, err)
	require.True(t, e.NextDeadline().IsZero())
	e.OnTimer(t0.Add(time.Hour))
	require.Zero(t, e.PendingRepairs())
	e.Flush()
	require.Equal(t, 1, e.PendingRepairs())
}

// TestInterleavingSpreadsBurst: with depth d, a burst of d consecutive
// lost packets lands in d different groups, one each, and XOR rebuilds
// them all; without interleaving the same burst is unrecoverable.
func TestInterleavingSpreadsBurst(t *testing.T) {
	for _, d := range []int{2, 4, 8} {
		for _, depth := range []int{1, d} {
			pkts := randPackets(rand.New(rand.NewPCG(7, uint64(d))), 80, 10, 1000)
			wire := encodeAll(t, EncoderConfig{Scheme: SchemeXOR, K: 10, Interleave: depth, MaxGroupDelay: -1}, pkts, 0)
			// Lose d consecutive source packets starting at packet 21.
			var src []int
			for i, w := range wire {
				if !w.repair {
					src = append(src, i)
				}
			}
			lost := map[int]bool{}
			groups := map[uint32]bool{}
			for _, i := range src[21 : 21+d] {
				lost[i] = true
				groups[wire[i].tag.GroupID] = true
			}
			got, _ := deliver(t, wire, func(i int, _ wirePkt) bool { return !lost[i] })
			if depth == 1 {
				require.LessOrEqual(t, len(groups), 2, "burst %d without interleaving", d)
				require.Less(t, len(got), d, "burst %d without interleaving must lose data", d)
				continue
			}
			require.Len(t, groups, d, "depth %d: burst spans %d groups", d, len(groups))
			require.Len(t, got, d, "depth %d", d)
			for i := range lost {
				require.Equal(t, wire[i].data, got[wire[i].tag])
			}
		}
	}
}

func TestAdaptiveParity(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    float64
		k    int
		want int
	}{
		{"no_loss", 0, 10, 1},
		{"p_0.1pct", 0.001, 10, 1},
		{"p_1pct", 0.01, 10, 2},
		{"p_3pct", 0.03, 10, 3},
		{"p_10pct", 0.10, 10, 6},
		{"p_40pct_capped", 0.40, 10, 8},
		{"single_packet_5pct", 0.05, 1, 2},
		{"nan_keeps_min", 0, 10, 1},
		{"certain_loss", 1, 10, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParityFor(tc.k, tc.p, 1e-3, 1, 8)
			require.Equal(t, tc.want, got)
			if got > 1 && got < 8 {
				require.Less(t, groupLossProb(tc.k, got, tc.p), 1e-3)
				require.GreaterOrEqual(t, groupLossProb(tc.k, got-1, tc.p), 1e-3)
			}
		})
	}
	e, err := NewEncoder(EncoderConfig{K: 10, M: 3, MinM: 1, MaxM: 8})
	require.NoError(t, err)
	require.Equal(t, 3, e.Parity(10))
	require.Equal(t, 1, e.Parity(1), "fixed m scales with k'")
	e.SetLossRate(0.10)
	require.Equal(t, 6, e.Parity(10))
	e.SetLossRate(0.001)
	require.Equal(t, 1, e.Parity(10))
	e.SetLossRate(-1)
	require.Equal(t, 3, e.Parity(10))

	// The chosen m is what the next group's repair header carries.
	e.SetLossRate(0.10)
	for i := range 10 {
		_, err := e.AddSource(t0, []byte{byte(i)})
		require.NoError(t, err)
	}
	require.Equal(t, 6, e.PendingRepairs())
	h, _, _ := e.NextRepair()
	require.Equal(t, uint8(6), h.M)
}

// TestBurstParity: Gilbert's model reduces to the independent one when
// q = p, gives p·q^m for a lone packet and its m repairs, and SetBurstLoss
// raises m only for sparse groups on a bursty path.
func TestBurstParity(t *testing.T) {
	for _, tc := range []struct {
		k, m int
		p    float64
	}{{1, 1, 0.05}, {10, 3, 0.05}, {5, 2, 0.2}, {3, 0, 0.1}} {
		require.InDelta(t, groupLossProb(tc.k, tc.m, tc.p), burstGroupLossProb(tc.k, tc.m, tc.p, tc.p), 1e-12, "%+v", tc)
	}
	for m := 1; m <= 4; m++ {
		require.InDelta(t, 0.05*math.Pow(2.0/3, float64(m)), burstGroupLossProb(1, m, 0.05, 2.0/3), 1e-12)
	}
	require.Zero(t, burstGroupLossProb(4, 1, 0, 0.5))
	require.Equal(t, 1.0, burstGroupLossProb(4, 1, 1, 0.5))
	// A lone message at 5% loss in bursts of mean 3 (q = 2/3): four
	// repairs bring its loss to 1%, the cap; independent loss needs two
	// for the sparse target (0.1%), one for 0.5%.
	require.Equal(t, 4, BurstParityFor(1, 0.05, 2.0/3, SparseTargetGroupLoss, 1, 4))
	require.Equal(t, 2, BurstParityFor(1, 0.05, 0.05, SparseTargetGroupLoss, 1, 4))
	require.Equal(t, 1, BurstParityFor(1, 0.05, 0.05, 5e-3, 1, 4))

	e, err := NewEncoder(EncoderConfig{K: 10, M: 1, MinM: 1, MaxM: 4, TargetGroupLoss: 3e-2})
	require.NoError(t, err)
	e.SetLossRate(0.05)
	full, lone := e.Parity(10), e.Parity(1)
	require.Equal(t, lone, e.SparseParity(1), "before SetBurstLoss: the regular rule")
	e.SetBurstLoss(0.05, 0.05)
	require.Equal(t, max(lone, ParityFor(1, 0.05, SparseTargetGroupLoss, 1, 4)), e.SparseParity(1), "independent loss: the independent rule at the sparse target")
	e.SetLossRate(0.05)
	e.SetBurstLoss(0.05, 2.0/3)
	require.Equal(t, DefaultSparseMaxM, e.SparseParity(1), "bursty loss: more repairs for a lone message (up to SparseMaxM, above MaxM)")
	require.Equal(t, lone, e.Parity(1), "the regular rule is unchanged")
	require.Equal(t, full, e.SparseParity(10), "full groups keep the independent rule")
	require.Equal(t, full, e.SparseParity(6), "so do groups of more than K/2")
	e.SetBurstLoss(math.NaN(), 0.5)
	require.Equal(t, DefaultSparseMaxM, e.SparseParity(1), "NaN ignored")
	e.SetBurstLoss(0, 0)
	require.Equal(t, lone, e.SparseParity(1), "each call replaces the last")
}

func TestEncoderSteadyStateAllocs(t *testing.T) {
	for _, s := range []Scheme{SchemeXOR, SchemeReedSolomon} {
		e, err := NewEncoder(EncoderConfig{Scheme: s, K: 10})
		require.NoError(t, err)
		pkt := make([]byte, 1200)
		buf := make([]byte, 0, 2000)
		group := func() {
			for range 10 {
				if _, err := e.AddSource(t0, pkt); err != nil {
					t.Fatal(err)
				}
			}
			for ok := true; ok; {
				_, ok = e.AppendNextRepair(buf[:0])
			}
		}
		group() // warm the pools and the coder cache
		require.Zero(t, testing.AllocsPerRun(50, group), "scheme %v", s)
	}
}

func TestPeekTagAndAddTagged(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{K: 2, M: 1, Interleave: 2, FirstGroupID: 5})
	require.NoError(t, err)
	want := []SourceTag{{5, 0}, {6, 0}, {5, 1}, {6, 1}, {7, 0}}
	for i, w := range want {
		require.Equal(t, w, e.PeekTag(), "packet %d", i)
		require.ErrorIs(t, e.AddTagged(t0, SourceTag{GroupID: 99}, []byte{1}), ErrInconsistent)
		require.NoError(t, e.AddTagged(t0, w, []byte{byte(i)}))
	}
	// An expired group is not closed by AddTagged, so the peeked tag holds.
	tag := e.PeekTag()
	require.NoError(t, e.AddTagged(t0.Add(time.Hour), tag, []byte{9}))
	require.Equal(t, SourceTag{GroupID: 8, Index: 0}, tag)
	require.Equal(t, SourceTag{GroupID: 7, Index: 1}, e.PeekTag())
	require.Equal(t, 2, e.PendingRepairs(), "groups 5 and 6 closed full")
	e.OnTimer(t0.Add(time.Hour))
	require.Equal(t, 3, e.PendingRepairs(), "group 7 closed by delay; 8 opened at t0+1h")
	e.OnTimer(t0.Add(time.Hour + DefaultMaxGroupDelay))
	require.Equal(t, 4, e.PendingRepairs())
}
