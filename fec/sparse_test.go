package fec

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// TestEncoderSparseRepairs: a sparse group (closed by the delay bound with
// k' ≤ K/2) gets SparseParity's repairs; XOR sends its one parity packet
// that many times for a lone packet only; full groups and the Encoder that
// was never told a burst rate keep the regular rule; the budget caps the
// extras.
func TestEncoderSparseRepairs(t *testing.T) {
	pkt := make([]byte, 200)
	for _, tc := range []struct {
		name  string
		cfg   EncoderConfig
		burst bool // SetBurstLoss(0.05, 0.7)
		k     int  // packets in the group
		flush bool // close by Flush instead of the delay bound
		want  int  // repair packets
	}{
		{"rs_lone_bursty", EncoderConfig{K: 10, M: 1, MaxM: 4}, true, 1, false, 6},
		{"rs_lone_flush", EncoderConfig{K: 10, M: 1, MaxM: 4}, true, 1, true, 6},
		{"rs_lone_not_told", EncoderConfig{K: 10, M: 1, MaxM: 4}, false, 1, false, 1},
		{"rs_half_bursty", EncoderConfig{K: 10, M: 1, MaxM: 4}, true, 5, false, 6},
		{"rs_over_half", EncoderConfig{K: 10, M: 1, MaxM: 4}, true, 6, false, 1},
		{"rs_full", EncoderConfig{K: 10, M: 1, MaxM: 4}, true, 10, false, 1},
		{"rs_capped_by_sparse_max_m", EncoderConfig{K: 10, M: 1, MaxM: 2, SparseMaxM: 3}, true, 1, false, 3},
		{"rs_off", EncoderConfig{K: 10, M: 1, MaxM: 4, SparseRepairRate: -1}, true, 1, false, 1},
		{"xor_lone_copies", EncoderConfig{Scheme: SchemeXOR, K: 10}, true, 1, false, 6},
		{"xor_lone_max_copies", EncoderConfig{Scheme: SchemeXOR, K: 10, MaxCopies: 2}, true, 1, false, 2},
		// Two data losses are beyond XOR, but copies still cover the
		// parity's own loss: copies until they gain less than the target.
		{"xor_pair", EncoderConfig{Scheme: SchemeXOR, K: 10}, true, 2, false, 6},
		{"xor_over_half", EncoderConfig{Scheme: SchemeXOR, K: 10}, true, 6, false, 1},
		{"xor_full", EncoderConfig{Scheme: SchemeXOR, K: 10}, true, 10, false, 1},
		{"xor_not_told", EncoderConfig{Scheme: SchemeXOR, K: 10}, false, 1, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEncoder(tc.cfg)
			require.NoError(t, err)
			if tc.burst {
				e.SetBurstLoss(SparsePriorLoss, SparsePriorBurst)
			}
			for range tc.k {
				_, err := e.AddSource(t0, pkt)
				require.NoError(t, err)
			}
			if tc.flush {
				e.Flush()
			} else {
				e.OnTimer(t0.Add(DefaultMaxGroupDelay))
			}
			require.Equal(t, tc.want, e.PendingRepairs())
			seen := map[uint8]int{}
			for range tc.want {
				h, shard, ok := e.NextRepair()
				require.True(t, ok)
				require.Equal(t, uint8(tc.k), h.K)
				require.NoError(t, h.Validate())
				require.Len(t, shard, int(h.ShardLen))
				seen[h.Index]++
				if tc.cfg.Scheme == SchemeXOR {
					require.Equal(t, uint8(1), h.M, "copies keep XOR's header")
				} else {
					require.Equal(t, uint8(tc.want), h.M)
				}
			}
			_, _, ok := e.NextRepair()
			require.False(t, ok)
			if tc.cfg.Scheme == SchemeXOR {
				require.Equal(t, map[uint8]int{uint8(tc.k): tc.want}, seen)
			} else {
				require.Len(t, seen, tc.want, "distinct parity shards")
			}
			st := e.Stats()
			require.Equal(t, uint64(tc.want), st.RepairPackets)
		})
	}
}

// TestEncoderSparseBudget: 200-byte messages at 50 Hz, each alone in its
// group, want five extra repairs each (about 55 kB/s); with a budget of
// 20 kB/s the extras paid over 10 s stay within the rate plus the bucket,
// and the rest is counted as withheld. Each group still gets its regular
// repair. A source above the budget (1200 bytes at 1 kHz, a bulk flow's
// small groups) is not sparse: no extras once it is under way.
func TestEncoderSparseBudget(t *testing.T) {
	const rate = 20_000
	for _, tc := range []struct {
		name     string
		size, n  int
		gap      time.Duration
		minShare float64 // extras paid, as a share of rate x time, at least
		noExtras bool
	}{
		{"messages_50hz", 200, 500, 20 * time.Millisecond, 0.9, false},
		{"bulk_source", 1200, 2000, time.Millisecond, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEncoder(EncoderConfig{K: 10, M: 1, MaxM: 4, SparseRepairRate: rate})
			require.NoError(t, err)
			e.SetBurstLoss(SparsePriorLoss, SparsePriorBurst)
			pkt := make([]byte, tc.size)
			now := t0
			extraBytes := 0
			for range tc.n {
				_, err := e.AddSource(now, pkt)
				require.NoError(t, err)
				e.Flush()
				n := e.PendingRepairs()
				require.GreaterOrEqual(t, n, 1)
				for range n {
					h, shard, ok := e.NextRepair()
					require.True(t, ok)
					if h.Index > h.K {
						extraBytes += RepairHeaderSize + len(shard)
					}
				}
				now = now.Add(tc.gap)
			}
			st := e.Stats()
			secs := now.Sub(t0).Seconds()
			require.LessOrEqual(t, float64(extraBytes), rate*secs+rate*sparseBucketSpan.Seconds())
			require.GreaterOrEqual(t, float64(extraBytes), tc.minShare*rate*secs, "the budget is used")
			require.Equal(t, uint64(5*tc.n), st.SparseRepairs+st.SparseWithheld)
			require.Positive(t, st.SparseWithheld)
			if tc.noExtras {
				// Only the first groups, before 16 kB (a quarter second
				// of the budget) of source have gone out.
				require.LessOrEqual(t, st.SparseRepairs, uint64(5*(rate/4/tc.size+1)))
			}
		})
	}
}

// TestDecoderDuplicateRepairs: XOR copies of a lone packet's parity, and
// any repair packet duplicated by the network, are counted as duplicates
// and rebuild nothing twice, whatever their order relative to the data.
func TestDecoderDuplicateRepairs(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{Scheme: SchemeXOR, K: 10})
	require.NoError(t, err)
	e.SetBurstLoss(SparsePriorLoss, SparsePriorBurst)
	wire := encodeAll(t, e.Config(), nil, 0) // empty: just the config check
	require.Empty(t, wire)
	src := []byte("a lone message")
	tag, err := e.AddSource(t0, src)
	require.NoError(t, err)
	e.Flush()
	var copies [][]byte
	for {
		b, ok := e.AppendNextRepair(nil)
		if !ok {
			break
		}
		copies = append(copies, b)
	}
	require.Len(t, copies, DefaultMaxCopies)
	for _, tc := range []struct {
		name      string
		order     []int // -1 the data packet, else a copy
		recovered int
		dups      int
	}{
		{"data_lost_all_copies", []int{0, 1, 2, 3}, 1, 3},
		{"data_lost_last_copy_only", []int{3}, 1, 0},
		// The first copy completes the group (nothing to rebuild).
		{"data_then_copies", []int{-1, 0, 1, 2, 3}, 0, 3},
		{"copies_then_data", []int{1, 2, -1, 0}, 1, 3},
		{"same_copy_twice", []int{2, 2, 2}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder(t, DecoderConfig{})
			n := 0
			for _, i := range tc.order {
				var rec []Recovered
				var err error
				if i < 0 {
					rec, err = d.AddSource(t0, tag, src)
				} else {
					rec, err = d.AddRepairPacket(t0, copies[i])
				}
				require.NoError(t, err)
				for _, r := range rec {
					require.Equal(t, tag, r.Tag)
					require.Equal(t, src, r.Packet)
					n++
				}
			}
			require.Equal(t, tc.recovered, n)
			require.Equal(t, uint64(tc.dups), d.Stats().Duplicates)
			require.Zero(t, d.Stats().Malformed)
		})
	}
	// A duplicated RS repair of an incomplete group is a duplicate too.
	rs, err := NewEncoder(EncoderConfig{K: 4, M: 2})
	require.NoError(t, err)
	var tags []SourceTag
	for i := range 4 {
		tg, err := rs.AddSource(t0, []byte{byte(i), 1, 2})
		require.NoError(t, err)
		tags = append(tags, tg)
	}
	r0, _ := rs.AppendNextRepair(nil)
	d := newDecoder(t, DecoderConfig{})
	_, err = d.AddSource(t0, tags[0], []byte{0, 1, 2})
	require.NoError(t, err)
	for range 2 {
		rec, err := d.AddRepairPacket(t0, r0)
		require.NoError(t, err)
		require.Empty(t, rec)
	}
	require.Equal(t, uint64(1), d.Stats().Duplicates)
}

// chain is a Gilbert loss chain advanced once per packet, like netem's:
// p the loss rate, q = P(lost | previous lost).
type chain struct {
	rng  *rand.Rand
	p, q float64
	bad  bool
}

func (c *chain) lost() bool {
	g := c.p * (1 - c.q) / (1 - c.p)
	if c.bad {
		c.bad = c.rng.Float64() < c.q
	} else {
		c.bad = c.rng.Float64() < g
	}
	return c.bad
}

// sendLone sends one 200-byte message as the session would (a data packet
// with a sequence number), closes its group with the timer and returns
// how many repair packets it got.
func sendLone(t *testing.T, s *Strategy, env *fakeEnv, now time.Time, seq uint64) int {
	pn := env.hist.NextPN()
	_, ok := s.TagSource(now, pn)
	require.True(t, ok)
	frame := binary.BigEndian.AppendUint64(make([]byte, 0, 208), seq)
	frame = append(frame, make([]byte, 200)...)
	env.hist.Add(rudp.SentPacket{Time: now, Size: len(frame), AckEliciting: true, InFlight: true, HasSeq: true, Seq: seq})
	s.OnPacketSent(now, env.hist.Get(pn), frame)
	before := len(env.repairs)
	s.OnTimeout(now.Add(DefaultMaxGroupDelay))
	return len(env.repairs) - before
}

// TestStrategySparseRepairs: a Strategy sends lone 200-byte messages at 50
// Hz over a simulated chain and settles every packet's fate (acked or
// lost) a round trip later. Sparse groups start at the prior's count (the
// cap) whatever the path, keep it on a bursty path, fall back to the
// regular rule on a clean one and close to it under independent loss, and
// never exceed the budget.
func TestStrategySparseRepairs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       StrategyConfig
		p, q      float64
		first     int     // repairs of the first message
		lastMin   int     // repairs of each of the last 100 messages, at least
		lastMax   int     // and at most
		burstMin  float64 // BurstEstimate at the end, at least
		burstMax  float64 // and at most
		maxExtraB float64 // extra repair bytes per second at most (0: no check)
	}{
		{"rs_clean", StrategyConfig{}, 0, 0, 6, 1, 1, 0.6, 0.7, 0},
		{"rs_independent_5pct", StrategyConfig{}, 0.05, 0.05, 6, 2, 3, 0, 0.25, 0},
		{"rs_bursty_p4", StrategyConfig{}, 0.05, 2.0 / 3, 6, 6, 6, 0.5, 0.8, 0},
		{"xor_clean", StrategyConfig{Encoder: EncoderConfig{Scheme: SchemeXOR}}, 0, 0, 6, 1, 1, 0.6, 0.7, 0},
		{"xor_independent_5pct", StrategyConfig{Encoder: EncoderConfig{Scheme: SchemeXOR}}, 0.05, 0.05, 6, 2, 3, 0, 0.25, 0},
		{"xor_bursty_p4", StrategyConfig{Encoder: EncoderConfig{Scheme: SchemeXOR}}, 0.05, 2.0 / 3, 6, 6, 6, 0.5, 0.8, 0},
		{"rs_budget", StrategyConfig{Encoder: EncoderConfig{SparseRepairRate: 5000}}, 0.05, 2.0 / 3, 6, 1, 3, 0.5, 0.8, 5000},
		{"rs_off", StrategyConfig{Encoder: EncoderConfig{SparseRepairRate: -1}}, 0.05, 2.0 / 3, 1, 1, 1, 0, 1, 0},
		{"xor_off", StrategyConfig{Encoder: EncoderConfig{Scheme: SchemeXOR, SparseRepairRate: -1}}, 0.05, 2.0 / 3, 1, 1, 1, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.MTU = 1200
			snd, _, senv, _ := newPair(t, cfg)
			ch := &chain{rng: rand.New(rand.NewPCG(7, 7)), p: tc.p, q: tc.q}
			const msgs = 1000 // 20 s
			now := t0
			settled := senv.hist.NextPN()
			var counts []int
			for seq := range uint64(msgs) {
				counts = append(counts, sendLone(t, snd, senv, now, seq))
				// Fates are known a round trip (40 ms) later: settle what
				// was sent two messages ago.
				for ; settled+12 < senv.hist.NextPN(); settled++ {
					if p := senv.hist.Get(settled); ch.lost() {
						senv.hist.MarkLost(p)
					} else {
						senv.hist.MarkAcked(p)
					}
				}
				snd.OnAckReceived(now, &rudp.AckFrame{}, true, true)
				now = now.Add(20 * time.Millisecond)
			}
			require.Equal(t, tc.first, counts[0], "the prior from the first message")
			for i, c := range counts[msgs-100:] {
				require.GreaterOrEqual(t, c, tc.lastMin, "message %d", msgs-100+i)
				require.LessOrEqual(t, c, tc.lastMax, "message %d", msgs-100+i)
			}
			st := snd.Stats()
			require.GreaterOrEqual(t, st.BurstEstimate, tc.burstMin)
			require.LessOrEqual(t, st.BurstEstimate, tc.burstMax)
			if tc.maxExtraB > 0 {
				secs := float64(msgs) * 0.02
				shard := float64(st.Encoder.RepairBytes) / float64(st.Encoder.RepairPackets)
				extra := float64(st.Encoder.SparseRepairs) * (shard + RepairHeaderSize)
				require.LessOrEqual(t, extra, tc.maxExtraB*secs+tc.maxExtraB*sparseBucketSpan.Seconds())
				require.Positive(t, st.Encoder.SparseWithheld)
			}
			t.Logf("%s: first %d, last %v, loss %.3f burst %.3f, sparse extras %d withheld %d",
				tc.name, counts[0], counts[msgs-10:], st.LossEstimate, st.BurstEstimate, st.Encoder.SparseRepairs, st.Encoder.SparseWithheld)
		})
	}
}

// BenchmarkSetBurstLoss: the sparse table's cost after each new (p, q)
// (the Strategy sets them on every ack that settles a repair's fate; the
// table is recomputed when a sparse group closes). No allocation.
func BenchmarkSetBurstLoss(b *testing.B) {
	for _, s := range []Scheme{SchemeReedSolomon, SchemeXOR} {
		b.Run(s.String(), func(b *testing.B) {
			cfg := EncoderConfig{Scheme: s, K: 10}
			if s == SchemeReedSolomon {
				cfg.MaxM = 4
			}
			e, err := NewEncoder(cfg)
			require.NoError(b, err)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				e.SetBurstLoss(0.05, 0.5+float64(i%10)/50)
				e.SparseParity(1) // recomputes the table
			}
		})
	}
}
