package ipv4

import (
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type frag struct {
	h Header
	p []byte
}

func fragments(t testing.TB, id uint16, payload []byte, mtu int) []frag {
	h := testHeader()
	h.ID = id
	pkts, err := Fragment(nil, &h, payload, mtu)
	require.NoError(t, err)
	out := make([]frag, len(pkts))
	for i, b := range pkts {
		_, err := out[i].h.Unmarshal(b)
		require.NoError(t, err)
		out[i].p, err = out[i].h.Payload(b)
		require.NoError(t, err)
	}
	return out
}

var t0 = time.Unix(1000, 0)

func TestReassembleOrders(t *testing.T) {
	payload := pattern(3800)
	orders := map[string][]int{
		"in_order":     {0, 1, 2},
		"reversed":     {2, 1, 0},
		"last_first":   {2, 0, 1},
		"middle_first": {1, 2, 0},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			r := NewReassembler(ReassemblerConfig{})
			fs := fragments(t, 9, payload, 1420)
			for k, i := range order {
				h, p, done, err := r.Add(t0, &fs[i].h, fs[i].p)
				require.NoError(t, err)
				if k < len(order)-1 {
					require.False(t, done)
					continue
				}
				require.True(t, done)
				require.Equal(t, payload, p)
				require.False(t, h.IsFragment())
				require.Equal(t, uint16(3820), h.TotalLength)
				require.Equal(t, uint16(9), h.ID)
			}
			require.Zero(t, r.Pending())
			require.Zero(t, r.Bytes())
		})
	}
}

func TestReassembleDuplicatesAndInterleaving(t *testing.T) {
	r := NewReassembler(ReassemblerConfig{})
	a, b := fragments(t, 1, pattern(3000), 1000), fragments(t, 2, pattern(2500), 600)
	var got [][]byte
	feed := func(f frag) {
		_, p, done, err := r.Add(t0, &f.h, f.p)
		require.NoError(t, err)
		if done {
			got = append(got, p)
		}
	}
	for i := 0; i < max(len(a), len(b)); i++ {
		if i < len(a) {
			feed(a[i])
			if i < len(a)-1 {
				feed(a[i]) // exact duplicate (after completion it would start a new datagram)
			}
		}
		if i < len(b) {
			feed(b[len(b)-1-i])
		}
	}
	require.Len(t, got, 2)
	require.Equal(t, uint64(len(a)-1), r.Stats().Duplicates)
	require.Zero(t, r.Pending())
}

func TestReassembleRejects(t *testing.T) {
	fs := fragments(t, 3, pattern(3800), 1420)
	t.Run("overlap_drops_datagram", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		_, _, _, err := r.Add(t0, &fs[0].h, fs[0].p)
		require.NoError(t, err)
		ov := fs[1].h
		ov.FragmentOffset = 170 // overlaps bytes 1360..1400 of fragment 0
		_, _, _, err = r.Add(t0, &ov, fs[1].p)
		require.ErrorIs(t, err, ErrOverlap)
		require.Zero(t, r.Pending())
		require.Equal(t, uint64(1), r.Stats().Overlaps)
	})
	t.Run("same_offset_different_bytes", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		_, _, _, err := r.Add(t0, &fs[1].h, fs[1].p)
		require.NoError(t, err)
		p := append([]byte(nil), fs[1].p...)
		p[0] ^= 1
		_, _, _, err = r.Add(t0, &fs[1].h, p)
		require.ErrorIs(t, err, ErrOverlap)
	})
	t.Run("non_final_not_multiple_of_8", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		_, _, _, err := r.Add(t0, &fs[0].h, fs[0].p[:1399])
		require.ErrorIs(t, err, ErrFragment)
	})
	t.Run("two_different_ends", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		_, _, _, err := r.Add(t0, &fs[2].h, fs[2].p)
		require.NoError(t, err)
		_, _, _, err = r.Add(t0, &fs[2].h, fs[2].p[:800])
		require.ErrorIs(t, err, ErrFragment)
		require.Zero(t, r.Pending())
	})
	t.Run("fragment_past_end", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		last := fs[1].h
		last.Flags = 0 // claims the datagram ends at 2800
		_, _, _, err := r.Add(t0, &last, fs[1].p)
		require.NoError(t, err)
		_, _, _, err = r.Add(t0, &fs[2].h, fs[2].p)
		require.ErrorIs(t, err, ErrFragment)
	})
	t.Run("past_65535", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		h := fs[2].h
		h.FragmentOffset = MaxFragOffset
		_, _, _, err := r.Add(t0, &h, fs[2].p)
		require.ErrorIs(t, err, ErrFragment)
	})
}

func TestReassembleTimeout(t *testing.T) {
	r := NewReassembler(ReassemblerConfig{Timeout: time.Second})
	fs := fragments(t, 4, pattern(3800), 1420)
	_, _, _, err := r.Add(t0, &fs[0].h, fs[0].p)
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Second), r.NextExpiry())
	require.Zero(t, r.Expire(t0.Add(999*time.Millisecond)))
	// The rest arrive too late: the first fragment is gone, the datagram never completes.
	for _, f := range fs[1:] {
		_, _, done, err := r.Add(t0.Add(time.Second), &f.h, f.p)
		require.NoError(t, err)
		require.False(t, done)
	}
	require.Equal(t, uint64(1), r.Stats().TimedOut)
	require.Equal(t, 1, r.Pending())
	require.Equal(t, 1, r.Expire(t0.Add(3*time.Second)))
	require.Zero(t, r.Bytes())
}

func TestReassembleBounds(t *testing.T) {
	t.Run("max_pending_evicts_oldest", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{MaxPending: 4})
		for i := range 100 {
			fs := fragments(t, uint16(i), pattern(3800), 1420)
			_, _, _, err := r.Add(t0.Add(time.Duration(i)*time.Millisecond), &fs[0].h, fs[0].p)
			require.NoError(t, err)
			require.LessOrEqual(t, r.Pending(), 4)
		}
		require.Equal(t, uint64(96), r.Stats().Evicted)
		// The newest still completes.
		fs := fragments(t, 99, pattern(3800), 1420)
		_, p, done, err := r.Add(t0.Add(time.Second), &fs[1].h, fs[1].p)
		require.NoError(t, err)
		require.False(t, done)
		_, p, done, err = r.Add(t0.Add(time.Second), &fs[2].h, fs[2].p)
		require.NoError(t, err)
		require.True(t, done)
		require.Len(t, p, 3800)
	})
	t.Run("max_bytes", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{MaxBytes: 5000})
		for i := range 50 {
			fs := fragments(t, uint16(i), pattern(3800), 1420)
			for _, f := range fs[:2] {
				_, _, _, err := r.Add(t0, &f.h, f.p)
				require.NoError(t, err)
				require.LessOrEqual(t, r.Bytes(), 5000)
			}
		}
		fs := fragments(t, 1, pattern(8000), 7000)
		_, _, _, err := r.Add(t0, &fs[0].h, fs[0].p)
		require.ErrorIs(t, err, ErrReassemblyFull)
	})
	t.Run("not_a_fragment_passes_through", func(t *testing.T) {
		r := NewReassembler(ReassemblerConfig{})
		h := testHeader()
		h.TotalLength = 25
		_, p, done, err := r.Add(t0, &h, []byte("hello"))
		require.NoError(t, err)
		require.True(t, done)
		require.Equal(t, "hello", string(p))
	})
}

func BenchmarkReassemble3800(b *testing.B) {
	r := NewReassembler(ReassemblerConfig{})
	fs := fragments(b, 1, pattern(3800), 1420)
	b.ReportAllocs()
	b.SetBytes(3800)
	for b.Loop() {
		for i := range fs {
			if _, _, _, err := r.Add(t0, &fs[i].h, fs[i].p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzReassembler feeds fragments cut from the input at fuzzer-chosen offsets
// and checks that nothing panics, the bounds hold, and any completed datagram
// has the length its last fragment announced.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 17, 0, 9}, int64(1))
	f.Add([]byte{0xff, 0xff, 0x00, 0x10, 0x80, 0x00, 0, 0, 0, 0}, int64(7))
	f.Fuzz(func(t *testing.T, ops []byte, seed int64) {
		r := NewReassembler(ReassemblerConfig{MaxPending: 3, MaxBytes: 3000, Timeout: time.Second})
		rng := rand.New(rand.NewSource(seed))
		now := t0
		for i := 0; i+3 < len(ops); i += 4 {
			h := Header{ID: uint16(ops[i] & 3), Protocol: ProtocolUDP, TTL: 1,
				Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}
			h.FragmentOffset = uint16(ops[i+1]) % 64
			if ops[i]&0x80 != 0 {
				h.Flags = FlagMF
			}
			n := int(ops[i+2]) * 8 / 4
			if ops[i+3]&1 != 0 {
				n += int(ops[i+3] >> 4)
			}
			p := make([]byte, n)
			rng.Read(p)
			now = now.Add(time.Duration(ops[i+3]) * 10 * time.Millisecond)
			out, pl, done, err := r.Add(now, &h, p)
			if err == nil && done && h.IsFragment() {
				if int(out.TotalLength) != out.MarshalSize()+len(pl) || out.IsFragment() {
					t.Fatalf("bad reassembled header %+v for %d bytes", out, len(pl))
				}
			}
			if r.Pending() > 3 || r.Bytes() > 3000 {
				t.Fatalf("bounds exceeded: %d pending, %d bytes", r.Pending(), r.Bytes())
			}
		}
	})
}
