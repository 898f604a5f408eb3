package fec

import (
	"testing"
)

const benchShard = 1200

// benchEncode measures one full group per iteration: k AddSource calls of
// 1200-byte packets plus draining the repair packets. SetBytes counts the
// source bytes, so MB/s is encoder input throughput.
func benchEncode(b *testing.B, cfg EncoderConfig) {
	e, err := NewEncoder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	k := e.Config().K
	pkt := make([]byte, benchShard)
	for i := range pkt {
		pkt[i] = byte(i)
	}
	b.SetBytes(int64(k * benchShard))
	b.ReportAllocs()
	for b.Loop() {
		for range k {
			if _, err := e.AddSource(t0, pkt); err != nil {
				b.Fatal(err)
			}
		}
		for ok := true; ok; {
			_, _, ok = e.NextRepair()
		}
	}
}

func BenchmarkEncodeRS10x3(b *testing.B) {
	benchEncode(b, EncoderConfig{Scheme: SchemeReedSolomon, K: 10, M: 3})
}

func BenchmarkEncodeXOR10(b *testing.B) {
	benchEncode(b, EncoderConfig{Scheme: SchemeXOR, K: 10})
}

// benchCode measures the bare Code.Encode on one group of 1200-byte shards.
func benchCode(b *testing.B, c Code, k, m int) {
	data, parity := make([][]byte, k), make([][]byte, m)
	for i := range data {
		data[i] = make([]byte, benchShard)
		for j := range data[i] {
			data[i][j] = byte(i * j)
		}
	}
	for i := range parity {
		parity[i] = make([]byte, benchShard)
	}
	b.SetBytes(int64(k * benchShard))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Encode(data, parity); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCodeRS10x3(b *testing.B) { benchCode(b, &ReedSolomon{}, 10, 3) }
func BenchmarkCodeXOR10(b *testing.B)  { benchCode(b, &XOR{}, 10, 1) }

// benchDecode measures one group per iteration through the Decoder, with
// the worst case the code repairs: the first m data packets lost, so m
// packets are rebuilt from k-m sources and m repairs. SetBytes counts the
// group's k source packets.
func benchDecode(b *testing.B, cfg EncoderConfig) {
	e, err := NewEncoder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	k, m := e.Config().K, e.Config().M
	pkt := make([]byte, benchShard)
	for i := range pkt {
		pkt[i] = byte(i * 7)
	}
	var tags []SourceTag
	for range k {
		tag, err := e.AddSource(t0, pkt)
		if err != nil {
			b.Fatal(err)
		}
		tags = append(tags, tag)
	}
	var hdrs []RepairHeader
	var shards [][]byte
	for {
		h, s, ok := e.NextRepair()
		if !ok {
			break
		}
		hdrs = append(hdrs, h)
		shards = append(shards, append([]byte(nil), s...))
	}
	d, err := NewDecoder(DecoderConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(k * benchShard))
	b.ReportAllocs()
	var id uint32
	for b.Loop() {
		for _, tag := range tags[m:] {
			tag.GroupID = id
			if _, err := d.AddSource(t0, tag, pkt); err != nil {
				b.Fatal(err)
			}
		}
		n := 0
		for j, h := range hdrs {
			h.GroupID = id
			rec, err := d.AddRepair(t0, h, shards[j])
			if err != nil {
				b.Fatal(err)
			}
			n += len(rec)
		}
		if n != m {
			b.Fatalf("recovered %d, want %d", n, m)
		}
		id++
	}
}

func BenchmarkDecodeRS10x3(b *testing.B) {
	benchDecode(b, EncoderConfig{Scheme: SchemeReedSolomon, K: 10, M: 3})
}

func BenchmarkDecodeXOR10(b *testing.B) {
	benchDecode(b, EncoderConfig{Scheme: SchemeXOR, K: 10})
}
