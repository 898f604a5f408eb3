package rtp

import (
	"encoding/binary"
	"fmt"
	"math"

	pionrtp "github.com/pion/rtp"

	"github.com/skiffnet/skiff/fec"
)

// Unequal forward error correction: a frame of n media packets may be
// followed by m Reed-Solomon parity packets (github.com/skiffnet/skiff/fec),
// m chosen per frame by an FECPolicy from its priority, so I frames can be
// protected more strongly than P and B. Any m losses among the frame's
// n+m packets are repaired without a round trip. Parity packets form their
// own RTP stream (SSRC media+2, payload type media+2 by default, own
// sequence numbers) carrying the frame descriptor of their frame and:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  parity count |  parity index |  parity shard ...              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Data shard i is the 2-byte big-endian length of packet i's payload, the
// payload, and zero padding to the length of the longest (the first).

// FECPolicy returns how many parity packets protect a frame of the given
// priority made of n media packets (0: none). Results are clamped to
// [0, min(n, 16)], and frames of more than 64 packets get none.
type FECPolicy func(priority uint8, n int) int

// UnequalFEC returns a policy giving frames of priority ≥ PriorityI
// ceil(n·iRatio) parity packets, frames ≥ PriorityP ceil(n·pRatio), others
// none.
func UnequalFEC(iRatio, pRatio float64) FECPolicy {
	return func(priority uint8, n int) int {
		switch {
		case priority >= PriorityI:
			return int(math.Ceil(float64(n) * iRatio))
		case priority >= PriorityP:
			return int(math.Ceil(float64(n) * pRatio))
		}
		return 0
	}
}

// parityCount applies policy with the protocol limits.
func parityCount(policy FECPolicy, priority uint8, n int) int {
	if policy == nil || n > fec.MaxDataShards {
		return 0
	}
	return max(0, min(policy(priority, n), n, fec.MaxParityShards))
}

// fecEncoder builds parity packets. Not safe for concurrent use.
type fecEncoder struct {
	code fec.ReedSolomon
	hdr  pionrtp.Header
	desc [DescriptorSize]byte
	seq  uint16
}

func newFECEncoder(ssrc uint32, pt, extID uint8) (*fecEncoder, error) {
	e := &fecEncoder{hdr: pionrtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc}}
	if err := e.hdr.SetExtension(extID, e.desc[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return e, nil
}

// appendParity appends m parity packets for the frame whose payload was
// cut into chunks of maxPayload bytes, and returns buf and ends extended.
func (e *fecEncoder) appendParity(buf []byte, ends []int, d Descriptor, ts uint32, payload []byte, maxPayload, m int) ([]byte, []int, error) {
	n := max(1, (len(payload)+maxPayload-1)/maxPayload)
	size := 2 + min(maxPayload, len(payload))
	shards := make([][]byte, n+m)
	mem := make([]byte, (n+m)*size)
	for i := range shards {
		shards[i] = mem[i*size : (i+1)*size : (i+1)*size]
	}
	for i := range n {
		chunk := payload[min(i*maxPayload, len(payload)):min((i+1)*maxPayload, len(payload))]
		binary.BigEndian.PutUint16(shards[i], uint16(len(chunk)))
		copy(shards[i][2:], chunk)
	}
	if err := e.code.Encode(shards[:n], shards[n:]); err != nil {
		return buf, ends, err
	}
	d.Index, d.Count = 0, uint16(n)
	d.AppendTo(e.desc[:0])
	e.hdr.Timestamp = ts
	for j := range m {
		e.hdr.SequenceNumber = e.seq
		e.seq++
		start := len(buf)
		buf = append(buf, make([]byte, e.hdr.MarshalSize())...)
		k, _ := e.hdr.MarshalTo(buf[start:])
		buf = append(buf[:start+k], byte(m), byte(j))
		buf = append(buf, shards[n+j]...)
		ends = append(ends, len(buf))
	}
	return buf, ends, nil
}

// parityWireSize is the bytes m parity packets add to a frame.
func parityWireSize(payloadLen, maxPayload, m int) int {
	return m * (headerOverhead + 4 + min(maxPayload, payloadLen))
}

// fecFrame is the receive side's parity state for one frame.
type fecFrame struct {
	parity [][]byte // by parity index; nil = not received
	got    int
	size   int // shard size
}

// onParity records parity shard j of m for frame f and returns an error
// for a shard inconsistent with what the frame already holds.
func (ff *fecFrame) onParity(m, j int, shard []byte) error {
	switch {
	case m < 1 || m > fec.MaxParityShards || j >= m:
		return fmt.Errorf("%w: parity index %d of %d", ErrMalformed, j, m)
	case len(shard) < 3:
		return fmt.Errorf("%w: parity shard of %d bytes", ErrMalformed, len(shard))
	case ff.parity != nil && (len(ff.parity) != m || len(shard) != ff.size):
		return fmt.Errorf("%w: parity shard %d/%d of %d bytes disagrees with %d/%d bytes", ErrMalformed, j, m, len(shard), len(ff.parity), ff.size)
	}
	if ff.parity == nil {
		ff.parity, ff.size = make([][]byte, m), len(shard)
	}
	if ff.parity[j] == nil {
		ff.parity[j] = append([]byte(nil), shard...)
		ff.got++
	}
	return nil
}

// recover fills the missing entries of parts from the parity if enough
// shards are present, returning the indices recovered.
func (ff *fecFrame) recover(code *fec.ReedSolomon, parts [][]byte, missing int) ([]int, error) {
	if ff == nil || missing == 0 || missing > ff.got {
		return nil, nil
	}
	n, m := len(parts), len(ff.parity)
	shards := make([][]byte, n+m)
	mem := make([]byte, n*ff.size)
	var lost []int
	for i, p := range parts {
		buf := mem[i*ff.size : (i+1)*ff.size : (i+1)*ff.size]
		if p == nil {
			shards[i] = buf[:0]
			lost = append(lost, i)
			continue
		}
		if len(p)+2 > ff.size {
			return nil, fmt.Errorf("%w: packet %d of %d bytes exceeds the %d-byte parity shard", ErrMalformed, i, len(p), ff.size)
		}
		binary.BigEndian.PutUint16(buf, uint16(len(p)))
		copy(buf[2:], p)
		shards[i] = buf
	}
	copy(shards[n:], ff.parity)
	if err := code.Reconstruct(shards, n); err != nil {
		return nil, err
	}
	for _, i := range lost {
		l := int(binary.BigEndian.Uint16(shards[i]))
		if l+2 > ff.size {
			return nil, fmt.Errorf("%w: recovered packet %d claims %d bytes in a %d-byte shard", ErrMalformed, i, l, ff.size)
		}
		parts[i] = shards[i][2 : 2+l]
	}
	return lost, nil
}
