package fec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wirePkt is one packet as the session would send it: a tagged source
// packet or a repair packet (header + shard).
type wirePkt struct {
	repair bool
	tag    SourceTag
	data   []byte // source packet, or the whole repair packet
}

var t0 = time.Unix(1_700_000_000, 0)

// drain appends every pending repair packet of e to out, copied.
func drain(e *Encoder, out []wirePkt) []wirePkt {
	for {
		b, ok := e.AppendNextRepair(nil)
		if !ok {
			return out
		}
		out = append(out, wirePkt{repair: true, data: b})
	}
}

// encodeAll sends pkts through a fresh encoder, one every gap, and flushes
// at the end. It returns the wire packets in send order.
func encodeAll(t testing.TB, cfg EncoderConfig, pkts [][]byte, gap time.Duration) []wirePkt {
	t.Helper()
	e, err := NewEncoder(cfg)
	require.NoError(t, err)
	var out []wirePkt
	now := t0
	for _, p := range pkts {
		tag, err := e.AddSource(now, p)
		require.NoError(t, err)
		out = append(out, wirePkt{tag: tag, data: append([]byte(nil), p...)})
		out = drain(e, out)
		now = now.Add(gap)
	}
	e.Flush()
	return drain(e, out)
}

// deliver feeds the packets kept by keep to a fresh decoder and returns
// the recovered packets keyed by tag.
func deliver(t testing.TB, wire []wirePkt, keep func(i int, w wirePkt) bool) (map[SourceTag][]byte, *Decoder) {
	t.Helper()
	d, err := NewDecoder(DecoderConfig{})
	require.NoError(t, err)
	got := map[SourceTag][]byte{}
	for i, w := range wire {
		if !keep(i, w) {
			continue
		}
		var rec []Recovered
		if w.repair {
			rec, err = d.AddRepairPacket(t0, w.data)
		} else {
			rec, err = d.AddSource(t0, w.tag, w.data)
		}
		require.NoError(t, err)
		for _, r := range rec {
			_, dup := got[r.Tag]
			require.False(t, dup, "recovered %v twice", r.Tag)
			got[r.Tag] = append([]byte(nil), r.Packet...)
		}
	}
	return got, d
}

// randPackets returns n packets of random content with lengths in
// [minLen, maxLen].
func randPackets(rng *rand.Rand, n, minLen, maxLen int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		p := make([]byte, minLen+rng.IntN(maxLen-minLen+1))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		out[i] = p
	}
	return out
}
