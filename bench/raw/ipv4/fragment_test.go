package ipv4

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func testHeader() Header {
	return Header{ID: 0x1234, TTL: 64, Protocol: ProtocolUDP,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestFragmentIssueExample(t *testing.T) {
	h := testHeader()
	payload := pattern(3800)
	frags, err := Fragment(nil, &h, payload, 1420)
	require.NoError(t, err)
	require.Len(t, frags, 3)
	wantLen := []int{1400, 1400, 1000}
	wantOff := []uint16{0, 175, 350}
	wantMF := []bool{true, true, false}
	var got []byte
	for i, f := range frags {
		var fh Header
		n, err := fh.Unmarshal(f)
		require.NoError(t, err)
		p, err := fh.Payload(f)
		require.NoError(t, err)
		require.Len(t, p, wantLen[i], "fragment %d", i)
		require.Equal(t, wantOff[i], fh.FragmentOffset, "fragment %d", i)
		require.Equal(t, wantMF[i], fh.MF(), "fragment %d", i)
		require.Equal(t, uint16(0x1234), fh.ID)
		require.Equal(t, 20, n)
		require.LessOrEqual(t, len(f), 1420)
		got = append(got, p...)
	}
	require.Equal(t, payload, got)
}

func TestFragmentCases(t *testing.T) {
	t.Run("fits_in_one_packet", func(t *testing.T) {
		h := testHeader()
		frags, err := Fragment(nil, &h, pattern(1000), 1500)
		require.NoError(t, err)
		require.Len(t, frags, 1)
		require.Len(t, frags[0], 1020)
	})
	t.Run("df_set", func(t *testing.T) {
		h := testHeader()
		h.Flags = FlagDF
		_, err := Fragment(nil, &h, pattern(2000), 1500)
		require.ErrorIs(t, err, ErrDontFragment)
	})
	t.Run("mtu_not_multiple_of_8", func(t *testing.T) {
		h := testHeader()
		frags, err := Fragment(nil, &h, pattern(3000), 1006) // 986 room -> 984
		require.NoError(t, err)
		require.Len(t, frags, 4)
		var fh Header
		_, err = fh.Unmarshal(frags[1])
		require.NoError(t, err)
		require.Equal(t, uint16(123), fh.FragmentOffset)
	})
	t.Run("options_copied_only_when_flagged", func(t *testing.T) {
		h := testHeader()
		// Record route (0x07, not copied) and a copied security-like option (0x82).
		require.NoError(t, h.SetOptions([]byte{0x07, 7, 4, 0, 0, 0, 0, 0x82, 4, 1, 2}))
		frags, err := Fragment(nil, &h, pattern(2000), 600)
		require.NoError(t, err)
		var f0, f1 Header
		_, err = f0.Unmarshal(frags[0])
		require.NoError(t, err)
		_, err = f1.Unmarshal(frags[1])
		require.NoError(t, err)
		require.Equal(t, 32, f0.MarshalSize())
		require.Equal(t, []byte{0x82, 4, 1, 2}, f1.Options())
	})
	t.Run("refragment_keeps_offset_and_mf", func(t *testing.T) {
		h := testHeader()
		h.FragmentOffset = 100
		h.Flags = FlagMF
		frags, err := Fragment(nil, &h, pattern(1600), 820)
		require.NoError(t, err)
		require.Len(t, frags, 2)
		var last Header
		_, err = last.Unmarshal(frags[1])
		require.NoError(t, err)
		require.True(t, last.MF())
		require.Equal(t, uint16(200), last.FragmentOffset)
	})
	t.Run("mtu_too_small", func(t *testing.T) {
		h := testHeader()
		_, err := Fragment(nil, &h, pattern(100), 24)
		require.Error(t, err)
	})
	t.Run("too_large", func(t *testing.T) {
		h := testHeader()
		_, err := Fragment(nil, &h, make([]byte, 65516), 1500)
		require.ErrorIs(t, err, ErrTotalLen)
	})
}

func BenchmarkFragment3800(b *testing.B) {
	h := testHeader()
	p := pattern(3800)
	dst := make([][]byte, 0, 4)
	b.ReportAllocs()
	b.SetBytes(3800)
	for b.Loop() {
		dst, _ = Fragment(dst[:0], &h, p, 1420)
	}
}
