package rtp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDescriptorRoundTripAndErrors(t *testing.T) {
	d := Descriptor{Frame: 65535, Index: 2, Count: 3, Kind: KindB, Priority: PriorityB, RefDist: 1}
	b := d.AppendTo(nil)
	require.Len(t, b, d.MarshalSize())
	var got Descriptor
	n, err := got.Unmarshal(b)
	require.NoError(t, err)
	require.Equal(t, DescriptorSize, n)
	require.Equal(t, d, got)
	tests := []struct {
		name string
		in   Descriptor
	}{
		{"count_zero", Descriptor{Count: 0}},
		{"index_past_count", Descriptor{Index: 3, Count: 3}},
		{"unknown_kind", Descriptor{Count: 1, Kind: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := new(Descriptor).Unmarshal(tc.in.AppendTo(nil))
			require.ErrorIs(t, err, ErrDescriptor)
		})
	}
	_, err = new(Descriptor).Unmarshal(b[:9])
	require.ErrorIs(t, err, ErrDescriptor)
}

func FuzzDescriptor(f *testing.F) {
	f.Add(Descriptor{Count: 1}.AppendTo(nil))
	f.Add((&Descriptor{Frame: 9, Index: 4, Count: 5, Kind: KindP, Priority: 7, RefDist: 3}).AppendTo(nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Descriptor
		if _, err := d.Unmarshal(b); err != nil {
			return
		}
		var e Descriptor
		_, err := e.Unmarshal(d.AppendTo(nil))
		require.NoError(t, err)
		require.Equal(t, d, e)
	})
}
