package rtcp

import (
	"testing"

	pionrtcp "github.com/pion/rtcp"
	"github.com/stretchr/testify/require"
)

func TestBuildNACKRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		lost      []uint16
		wantPairs int
		want      []uint16
	}{
		{"single", []uint16{5}, 1, []uint16{5}},
		{"seventeen_fit_one_pair", []uint16{100, 101, 116}, 1, []uint16{100, 101, 116}},
		{"eighteenth_needs_second_pair", []uint16{100, 117}, 2, []uint16{100, 117}},
		{"unsorted_and_duplicates", []uint16{9, 3, 9, 4}, 1, []uint16{3, 4, 9}},
		{"across_wrap", []uint16{1, 65534, 0, 65535}, 1, []uint16{65534, 65535, 0, 1}},
		{"at_32767_32768", []uint16{32768, 32767}, 1, []uint16{32767, 32768}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := BuildNACK(1, 2, tc.lost)
			require.Len(t, n.Nacks, tc.wantPairs)
			b, err := Encode(nil, n)
			require.NoError(t, err)
			pkts, err := Decode(b)
			require.NoError(t, err)
			require.Len(t, pkts, 1)
			got := AppendNACKed(nil, pkts[0].(*pionrtcp.TransportLayerNack))
			require.Equal(t, tc.want, got)
			// pion's own expansion agrees.
			var pionList []uint16
			for _, p := range n.Nacks {
				pionList = append(pionList, p.PacketList()...)
			}
			require.Equal(t, tc.want, pionList)
		})
	}
	require.Nil(t, BuildNACK(1, 2, nil))
}

func TestPLIRoundTrip(t *testing.T) {
	b, err := Encode(nil, BuildPLI(3, 4))
	require.NoError(t, err)
	pkts, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, &pionrtcp.PictureLossIndication{SenderSSRC: 3, MediaSSRC: 4}, pkts[0])
}
