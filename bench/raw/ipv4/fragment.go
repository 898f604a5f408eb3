package ipv4

import (
	"errors"
	"fmt"
)

// ErrDontFragment is returned by Fragment when a datagram larger than the MTU
// has the DF flag set.
var ErrDontFragment = errors.New("ipv4: datagram exceeds MTU and DF is set")

// Fragment splits one datagram (header h, payload) into packets of at most mtu
// bytes each (RFC 791 §2.3, §3.2) and appends them to dst, each a freshly
// allocated, fully encoded IPv4 packet. Every fragment but the last carries a
// payload that is a multiple of 8 bytes and the MF flag; offsets are in 8-byte
// units relative to h.FragmentOffset (so a fragment can be fragmented again;
// the last piece keeps h's own MF). The first fragment carries all options,
// the others only those with the copied bit set. A datagram that fits is
// returned as one packet. h.TotalLength is ignored and recomputed.
//
// Example: 3800 payload bytes, 20-byte header, MTU 1420 give fragments of
// 1400, 1400 and 1000 payload bytes at offsets 0, 175 and 350.
func Fragment(dst [][]byte, h *Header, payload []byte, mtu int) ([][]byte, error) {
	hdr := *h
	hl := hdr.MarshalSize()
	if hl+len(payload) > MaxTotalLen {
		return dst, fmt.Errorf("%w: %d bytes exceed %d", ErrTotalLen, hl+len(payload), MaxTotalLen)
	}
	if !hdr.Src.Is4() || !hdr.Dst.Is4() {
		return dst, fmt.Errorf("%w: src %v dst %v", ErrAddress, hdr.Src, hdr.Dst)
	}
	if hl+len(payload) <= mtu {
		hdr.TotalLength = uint16(hl + len(payload))
		if err := hdr.Validate(); err != nil {
			return dst, err
		}
		return append(dst, append(hdr.AppendTo(make([]byte, 0, int(hdr.TotalLength))), payload...)), nil
	}
	if hdr.DF() {
		return dst, fmt.Errorf("%w: %d bytes, MTU %d", ErrDontFragment, hl+len(payload), mtu)
	}
	later := hdr // header of the second and later fragments
	copied, err := copiedOptions(hdr.Options())
	if err != nil {
		return dst, err
	}
	if err := later.SetOptions(copied); err != nil {
		return dst, err
	}
	lastMF := hdr.Flags & FlagMF
	base := int(hdr.FragmentOffset) * 8
	for off, first := 0, true; off < len(payload); first = false {
		fh := &hdr
		if !first {
			fh = &later
		}
		room := (mtu - fh.MarshalSize()) &^ 7
		if room < 8 {
			return dst, fmt.Errorf("ipv4: MTU %d leaves no room for data after a %d-byte header", mtu, fh.MarshalSize())
		}
		n := min(room, len(payload)-off)
		fh.Flags = fh.Flags &^ FlagMF
		if off+n < len(payload) {
			fh.Flags |= FlagMF
		} else {
			fh.Flags |= lastMF
		}
		if (base+off)/8 > MaxFragOffset {
			return dst, fmt.Errorf("ipv4: fragment offset %d exceeds %d", (base+off)/8, MaxFragOffset)
		}
		fh.FragmentOffset = uint16((base + off) / 8)
		fh.TotalLength = uint16(fh.MarshalSize() + n)
		pkt := fh.AppendTo(make([]byte, 0, int(fh.TotalLength)))
		dst = append(dst, append(pkt, payload[off:off+n]...))
		off += n
	}
	return dst, nil
}

// copiedOptions returns the options whose copied bit (0x80 in the type octet)
// says they go into every fragment (RFC 791 §3.1).
func copiedOptions(opts []byte) ([]byte, error) {
	var out []byte
	for i := 0; i < len(opts); {
		t := opts[i]
		switch t {
		case 0: // end of option list
			return out, nil
		case 1: // no-operation
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return nil, fmt.Errorf("%w: option type %d at %d has a bad length", ErrOptions, t, i)
		}
		l := int(opts[i+1])
		if t&0x80 != 0 {
			out = append(out, opts[i:i+l]...)
		}
		i += l
	}
	return out, nil
}
