package rtp

import (
	"encoding/binary"
	"fmt"

	pionrtp "github.com/pion/rtp"
)

// headerOverhead is the RTP header size of a media packet: 12 fixed bytes
// plus the one-byte extension block (4-byte header, 1-byte element header,
// DescriptorSize bytes, padded to a multiple of 4).
const headerOverhead = fixedHeaderSize + 4 + (1+DescriptorSize+3)/4*4

// rtxOverhead is the original sequence number an RTX packet adds (RFC 4588).
const rtxOverhead = 2

// fecOverhead is what a parity packet adds to a shard: parity count and
// index bytes, and the 2-byte length prefix of the shard (see fec.go).
// Media payloads leave room for it (it covers rtxOverhead too).
const fecOverhead = 4

// Packetizer cuts frames into RTP packets of at most MTU bytes (leaving room
// for the RTX original sequence number and the FEC shard header so
// retransmissions and parity packets fit too),
// numbering them consecutively, with the frame descriptor extension and the
// marker bit on the last packet of each frame. The zero value is not
// usable: use NewPacketizer. Not safe for concurrent use.
type Packetizer struct {
	ssrc       uint32
	pt         uint8
	extID      uint8
	maxPayload int
	seq        uint16
	hdr        pionrtp.Header
	desc       [DescriptorSize]byte
}

// NewPacketizer returns a packetizer for stream ssrc/pt whose first packet
// gets sequence number firstSeq.
func NewPacketizer(ssrc uint32, pt uint8, mtu int, extID uint8, firstSeq uint16) (*Packetizer, error) {
	if mtu < headerOverhead+fecOverhead+1 || mtu > MaxPacketSize {
		return nil, fmt.Errorf("%w: MTU %d outside [%d, %d]", ErrConfig, mtu, headerOverhead+fecOverhead+1, MaxPacketSize)
	}
	if extID < 1 || extID > 14 {
		return nil, fmt.Errorf("%w: extension ID %d outside 1..14", ErrConfig, extID)
	}
	if pt > 127 {
		return nil, fmt.Errorf("%w: payload type %d > 127", ErrConfig, pt)
	}
	p := &Packetizer{ssrc: ssrc, pt: pt, extID: extID, maxPayload: mtu - headerOverhead - fecOverhead, seq: firstSeq}
	p.hdr = pionrtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc}
	if err := p.hdr.SetExtension(extID, p.desc[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return p, nil
}

// PacketCount returns how many packets a payload of n bytes needs.
func (p *Packetizer) PacketCount(n int) int { return max(1, (n+p.maxPayload-1)/p.maxPayload) }

// WireSize returns the bytes on the wire (RTP only) for a payload of n.
func (p *Packetizer) WireSize(n int) int { return n + p.PacketCount(n)*headerOverhead }

// NextSeq returns the sequence number the next packet will get.
func (p *Packetizer) NextSeq() uint16 { return p.seq }

// AppendFrame packetises payload as frame d (d.Index and d.Count are set
// here) with RTP timestamp ts: it appends all packets back to back to buf
// and returns it with the end offset of each packet appended to ends.
// Packet i is buf[ends[i-1]:ends[i]] (ends[-1] = the initial len(buf)).
func (p *Packetizer) AppendFrame(buf []byte, ends []int, d Descriptor, ts uint32, payload []byte) ([]byte, []int) {
	count := p.PacketCount(len(payload))
	d.Count = uint16(count)
	p.hdr.Timestamp = ts
	for i := range count {
		chunk := payload[min(i*p.maxPayload, len(payload)):min((i+1)*p.maxPayload, len(payload))]
		d.Index = uint16(i)
		d.AppendTo(p.desc[:0]) // the header's extension payload aliases p.desc
		p.hdr.SequenceNumber = p.seq
		p.seq++
		p.hdr.Marker = i == count-1
		start := len(buf)
		buf = append(buf, make([]byte, p.hdr.MarshalSize())...)
		n, _ := p.hdr.MarshalTo(buf[start:]) // size is exact: cannot fail
		buf = append(buf[:start+n], chunk...)
		ends = append(ends, len(buf))
	}
	return buf, ends
}

// AppendRTX appends the RFC 4588 retransmission of the media packet orig
// (built by a Packetizer) to dst: same header and extension with the RTX
// payload type, SSRC and sequence number, the original sequence number (OSN)
// ahead of the original payload.
func AppendRTX(dst, orig []byte, rtxPT uint8, rtxSSRC uint32, rtxSeq uint16) ([]byte, error) {
	hl, err := Validate(orig)
	if err != nil {
		return dst, err
	}
	if orig[0]&0x20 != 0 {
		return dst, fmt.Errorf("%w: cannot retransmit a padded packet", ErrMalformed)
	}
	start := len(dst)
	dst = append(dst, orig[:hl]...)
	h := dst[start:]
	h[1] = h[1]&0x80 | rtxPT&0x7F
	osn := binary.BigEndian.Uint16(h[2:])
	binary.BigEndian.PutUint16(h[2:], rtxSeq)
	binary.BigEndian.PutUint32(h[8:], rtxSSRC)
	dst = binary.BigEndian.AppendUint16(dst, osn)
	return append(dst, orig[hl:]...), nil
}

// UnwrapRTX turns a decoded RTX packet back into the original media packet
// in place: payload type, SSRC and sequence number restored, OSN removed.
func UnwrapRTX(p *pionrtp.Packet, mediaPT uint8, mediaSSRC uint32) error {
	if len(p.Payload) < rtxOverhead {
		return fmt.Errorf("%w: RTX payload of %d bytes has no original sequence number", ErrMalformed, len(p.Payload))
	}
	p.SequenceNumber = binary.BigEndian.Uint16(p.Payload)
	p.Payload = p.Payload[rtxOverhead:]
	p.PayloadType = mediaPT
	p.SSRC = mediaSSRC
	return nil
}
