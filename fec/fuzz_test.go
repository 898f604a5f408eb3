package fec

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzRecords encodes packets for FuzzDecoder: each record is
// [kind byte][len uint16][bytes]; kind even = repair packet, odd = source
// packet (tag + payload). The time advances by kind>>1 ms per record.
func fuzzRecords(recs ...[]byte) []byte {
	var b []byte
	for i, r := range recs {
		b = append(b, byte(i&1))
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	return b
}

// FuzzDecoder feeds arbitrary packet sequences to a small decoder. It must
// never panic, never hold more than MaxBufferedShards buffers or more
// scratch than one group, and every packet it rebuilds must fit the limits.
func FuzzDecoder(f *testing.F) {
	// Seeds: a real XOR group with its first packet lost, and variants.
	e, _ := NewEncoder(EncoderConfig{Scheme: SchemeXOR, K: 3})
	var recs [][]byte
	for i, p := range [][]byte{[]byte("hello"), []byte("fec"), []byte("world!")} {
		tag, _ := e.AddSource(t0, p)
		if i > 0 {
			recs = append(recs, append(tag.AppendTo(nil), p...))
		}
	}
	rep, _ := e.AppendNextRepair(nil)
	seed := fuzzRecords(rep, recs[0], rep, recs[1]) // kinds alternate: repair, source, repair, source
	f.Add(seed)
	f.Add(fuzzRecords(rep))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 10, 0, 0, 0, 1, 2, 9, 9, 3, 0, 100})
	f.Add([]byte{1, 0, 6, 0, 0, 0, 1, 63, 0xAA})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := DecoderConfig{MaxPacketSize: 64, MaxGroups: 8, MaxBufferedShards: 80, GroupTimeout: 10 * time.Millisecond, MaxGroupJump: 16}
		d, err := NewDecoder(cfg)
		require.NoError(t, err)
		now := t0
		for len(b) >= 3 {
			kind, n := b[0], int(binary.BigEndian.Uint16(b[1:]))
			b = b[3:]
			n = min(n, len(b))
			rec, pkt := b[:n], []Recovered(nil)
			b = b[n:]
			now = now.Add(time.Duration(kind>>1) * time.Millisecond)
			if kind&1 == 0 {
				pkt, _ = d.AddRepairPacket(now, rec)
			} else {
				var tag SourceTag
				m, err := tag.Unmarshal(rec)
				if err != nil {
					continue
				}
				pkt, _ = d.AddSource(now, tag, rec[m:])
			}
			for _, r := range pkt {
				require.LessOrEqual(t, len(r.Packet), cfg.MaxPacketSize)
				require.Less(t, int(r.Tag.Index), MaxDataShards)
			}
			require.LessOrEqual(t, d.nbufs, cfg.MaxBufferedShards)
			require.LessOrEqual(t, len(d.scratch), MaxDataShards)
		}
	})
}

// FuzzRoundTrip encodes fuzz-chosen packets, drops the ones a fuzz-chosen
// mask selects, and checks the decoder rebuilds every lost packet exactly
// whenever its group lost no more than m shards.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("the quick brown fox jumps over the lazy dog"), uint64(0b101), uint8(4), false)
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint64(1<<40-1), uint8(10), true)
	f.Add([]byte{}, uint64(0), uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, mask uint64, k uint8, xor bool) {
		k = k%MaxDataShards + 1
		cfg := EncoderConfig{K: int(k), M: 3, MaxGroupDelay: -1, FirstGroupID: uint32(mask >> 32)}
		if xor {
			cfg = EncoderConfig{Scheme: SchemeXOR, K: int(k), MaxGroupDelay: -1}
		}
		// Cut data into packets whose lengths come from the data itself.
		var pkts [][]byte
		for len(data) > 0 && len(pkts) < 200 {
			n := min(int(data[0])%40, len(data)-1)
			pkts = append(pkts, data[1:1+n])
			data = data[1+n:]
		}
		if len(pkts) == 0 {
			return
		}
		wire := encodeAll(t, cfg, pkts, 0)
		lost := func(i int) bool { return mask&(1<<(uint(i)%64)) != 0 }
		lostIn, parity := map[uint32]int{}, map[uint32]int{}
		var gid uint32
		for i, w := range wire {
			if !w.repair {
				gid = w.tag.GroupID
			} else {
				parity[gid]++ // m shrinks with k' for the last, flushed group
			}
			if lost(i) {
				lostIn[gid]++
			}
		}
		got, _ := deliver(t, wire, func(i int, _ wirePkt) bool { return !lost(i) })
		idx := 0
		for i, w := range wire {
			if w.repair {
				continue
			}
			if lost(i) && lostIn[w.tag.GroupID] <= parity[w.tag.GroupID] {
				p, ok := got[w.tag]
				require.True(t, ok, "packet %d not rebuilt", idx)
				require.Equal(t, string(pkts[idx]), string(p), "packet %d", idx)
			}
			idx++
		}
	})
}
