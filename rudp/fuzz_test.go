package rudp

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// resealed appends a valid checksum to raw header+body bytes.
func resealed(b []byte) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), b...), crc32.Checksum(b, castagnoli))
}

// FuzzPacketUnmarshal feeds arbitrary datagrams (with a valid checksum, so
// the fuzzer reaches the field decoders) to Packet.Unmarshal. Accepted
// packets must re-encode to bytes that decode to the same packet. Decoding
// allocates nothing (slices alias the input), so there is no bound to check
// beyond the fixed Packet struct.
func FuzzPacketUnmarshal(f *testing.F) {
	for _, p := range samplePackets() {
		b := p.AppendTo(nil)
		f.Add(b[:len(b)-ChecksumSize], true)
		f.Add(b, false)
	}
	f.Add([]byte{}, true)
	f.Add(make([]byte, 40), true)
	f.Fuzz(func(t *testing.T, raw []byte, seal bool) {
		b := raw
		if seal {
			b = resealed(raw)
		}
		var p Packet
		if _, err := p.Unmarshal(b); err != nil {
			return
		}
		switch p.Header.Type {
		case TypeHello, TypeRetry, TypeAccept, TypePing: // padded types
			p.PadTo = len(b)
		}
		again := p.AppendTo(nil)
		if p.MarshalSize() != len(again) {
			t.Fatalf("MarshalSize %d, encoded %d", p.MarshalSize(), len(again))
		}
		var q Packet
		if _, err := q.Unmarshal(again); err != nil {
			t.Fatalf("re-encoded packet rejected: %v", err)
		}
		if q.Header != p.Header || (p.Header.Flags&FlagAck != 0 && q.Ack != p.Ack) ||
			q.Data.Seq != p.Data.Seq || string(q.Body) != string(p.Body) || q.Reason != p.Reason {
			t.Fatalf("round trip changed the packet:\n%+v\n%+v", p, q)
		}
	})
}
