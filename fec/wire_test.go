package fec

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRepairHeaderRoundTrip(t *testing.T) {
	for _, h := range []RepairHeader{
		{GroupID: 0, Scheme: SchemeXOR, Index: 1, K: 1, M: 1, ShardLen: 3},
		{GroupID: 0xFFFFFFFF, Scheme: SchemeReedSolomon, Index: 12, K: 10, M: 3, ShardLen: 1202},
		{GroupID: 1 << 31, Scheme: SchemeReedSolomon, Index: MaxDataShards + MaxParityShards - 1, K: MaxDataShards, M: MaxParityShards, ShardLen: MaxShardSize},
	} {
		b := h.AppendTo([]byte{0xAA})
		require.Len(t, b, 1+h.MarshalSize())
		var got RepairHeader
		n, err := got.Unmarshal(b[1:])
		require.NoError(t, err)
		require.Equal(t, RepairHeaderSize, n)
		require.Equal(t, h, got)
	}
}

func TestRepairHeaderMalformed(t *testing.T) {
	valid := RepairHeader{GroupID: 7, Scheme: SchemeReedSolomon, Index: 10, K: 10, M: 3, ShardLen: 100}
	for _, tc := range []struct {
		name string
		mod  func(h *RepairHeader)
		want string
	}{
		{"scheme_zero", func(h *RepairHeader) { h.Scheme = 0 }, "scheme 0 unknown"},
		{"scheme_unknown", func(h *RepairHeader) { h.Scheme = 77 }, "scheme 77 unknown"},
		{"k_zero", func(h *RepairHeader) { h.K = 0 }, "k 0 outside [1, 64]"},
		{"k_too_big", func(h *RepairHeader) { h.K = 65; h.Index = 65 }, "k 65 outside [1, 64]"},
		{"m_zero", func(h *RepairHeader) { h.M = 0 }, "m 0 outside [1, 16]"},
		{"m_too_big", func(h *RepairHeader) { h.M = 17 }, "m 17 outside [1, 16]"},
		{"xor_m_two", func(h *RepairHeader) { h.Scheme = SchemeXOR; h.M = 2 }, "xor m 2, must be 1"},
		{"index_is_data", func(h *RepairHeader) { h.Index = 9 }, "index 9 outside parity range [10, 13)"},
		{"index_past_parity", func(h *RepairHeader) { h.Index = 13 }, "index 13 outside parity range [10, 13)"},
		{"shard_len_below_prefix", func(h *RepairHeader) { h.ShardLen = 1 }, "shard length 1, need >= 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := valid
			tc.mod(&h)
			var got RepairHeader
			_, err := got.Unmarshal(h.AppendTo(nil))
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, RepairHeader{}, got, "failed Unmarshal must not modify the header")
		})
	}
	t.Run("truncated", func(t *testing.T) {
		b := valid.AppendTo(nil)
		for n := range b {
			var h RepairHeader
			_, err := h.Unmarshal(b[:n])
			require.ErrorIs(t, err, ErrMalformed)
		}
	})
	t.Run("shard_size_mismatch", func(t *testing.T) {
		b := append(valid.AppendTo(nil), make([]byte, 99)...)
		_, _, err := ParseRepair(b)
		require.ErrorIs(t, err, ErrMalformed)
		require.ErrorContains(t, err, "shard is 99 bytes, header says 100")
		_, shard, err := ParseRepair(append(b, 0))
		require.NoError(t, err)
		require.Len(t, shard, 100)
	})
}

func TestSourceTag(t *testing.T) {
	for _, tag := range []SourceTag{{0, 0}, {0xFFFFFFFF, 63}, {12345, 9}} {
		b := tag.AppendTo(nil)
		require.Len(t, b, tag.MarshalSize())
		var got SourceTag
		n, err := got.Unmarshal(b)
		require.NoError(t, err)
		require.Equal(t, SourceTagSize, n)
		require.Equal(t, tag, got)
	}
	var tag SourceTag
	_, err := tag.Unmarshal([]byte{0, 0, 0, 1, 64})
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "index 64, max 63")
	_, err = tag.Unmarshal([]byte{0, 0, 0, 1})
	require.ErrorContains(t, err, "source tag is 4 bytes, need 5")
}

func FuzzRepairHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 7, 2, 10, 10, 3, 0, 100})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 1, 5, 5, 1, 0xFF, 0xFF})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h RepairHeader
		n, err := h.Unmarshal(b)
		if err != nil {
			require.Zero(t, n)
			return
		}
		require.Equal(t, RepairHeaderSize, n)
		require.NoError(t, h.Validate())
		require.Equal(t, b[:n], h.AppendTo(nil), "round trip")
	})
}
