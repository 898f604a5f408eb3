package tcp

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
const (
	OptEOL           = 0
	OptNOP           = 1
	OptMSS           = 2
	OptWindowScale   = 3
	OptSACKPermitted = 4
	OptSACK          = 5
	OptTimestamps    = 8
)

// MaxSACKBlocks is the most SACK blocks an option can carry (RFC 2018 §3).
const MaxSACKBlocks = 4

// MaxWindowScale is the largest window shift RFC 7323 §2.3 allows.
const MaxWindowScale = 14

// SACKBlock is one block of a SACK option: bytes [Left, Right) were received.
type SACKBlock struct{ Left, Right uint32 }

// Options are the TCP options skiff's stack understands. Absent options are
// zero: MSS 0 means no MSS option. Unknown options are skipped on decode and
// counted in Unknown. The zero value is "no options"; not safe for concurrent
// mutation.
type Options struct {
	MSS            uint16 // maximum segment size; 0 = absent
	HasWindowScale bool
	WindowScale    uint8 // shift count, valid when HasWindowScale
	SACKPermitted  bool
	HasTimestamps  bool
	TSVal, TSEcr   uint32 // valid when HasTimestamps
	NumSACK        int    // number of valid entries in SACK
	SACK           [MaxSACKBlocks]SACKBlock
	Unknown        int // unknown options skipped by Unmarshal (ignored by AppendTo)
}

// sackBlocksFit returns how many SACK blocks fit beside the other options.
func (o *Options) sackBlocksFit() int {
	n := min(max(o.NumSACK, 0), MaxSACKBlocks)
	if n == 0 {
		return 0
	}
	room := 40 - o.fixedSize() - 4 // NOP NOP kind len
	return min(n, room/8)
}

// fixedSize is the size of every option but SACK blocks, in this encoder's layout.
func (o *Options) fixedSize() int {
	n := 0
	if o.MSS != 0 {
		n += 4
	}
	if o.HasTimestamps || o.SACKPermitted {
		n += 4 // SACKOK with NOP padding, or the padding in front of TS
	}
	if o.HasTimestamps {
		n += 8 // TS is 10 bytes: kind and length share the 4 above
	}
	if o.HasWindowScale {
		n += 4
	}
	return n
}

// MarshalSize returns the encoded size of the options, a multiple of 4 no
// larger than 40. SACK blocks that do not fit beside the other options are
// dropped (the oldest last, so keep the most recent block first).
func (o *Options) MarshalSize() int {
	n := o.fixedSize()
	if k := o.sackBlocksFit(); k > 0 {
		n += 4 + 8*k
	}
	return n
}

// appendTo appends the options in Linux's layout: MSS, SACKOK+TS (or
// NOP NOP TS, or NOP NOP SACKOK), NOP WS, NOP NOP SACK.
func (o *Options) appendTo(b []byte) []byte {
	if o.MSS != 0 {
		b = append(b, OptMSS, 4)
		b = binary.BigEndian.AppendUint16(b, o.MSS)
	}
	switch {
	case o.HasTimestamps && o.SACKPermitted:
		b = append(b, OptSACKPermitted, 2, OptTimestamps, 10)
	case o.HasTimestamps:
		b = append(b, OptNOP, OptNOP, OptTimestamps, 10)
	case o.SACKPermitted:
		b = append(b, OptNOP, OptNOP, OptSACKPermitted, 2)
	}
	if o.HasTimestamps {
		b = binary.BigEndian.AppendUint32(b, o.TSVal)
		b = binary.BigEndian.AppendUint32(b, o.TSEcr)
	}
	if o.HasWindowScale {
		b = append(b, OptNOP, OptWindowScale, 3, o.WindowScale)
	}
	if k := o.sackBlocksFit(); k > 0 {
		b = append(b, OptNOP, OptNOP, OptSACK, byte(2+8*k))
		for _, s := range o.SACK[:k] {
			b = binary.BigEndian.AppendUint32(b, s.Left)
			b = binary.BigEndian.AppendUint32(b, s.Right)
		}
	}
	return b
}

// unmarshal decodes the option bytes b (the header after its first 20
// bytes, up to the data offset). It does not allocate.
func (o *Options) unmarshal(b []byte) error {
	*o = Options{}
	for i := 0; i < len(b); {
		kind := b[i]
		switch kind {
		case OptEOL:
			return nil
		case OptNOP:
			i++
			continue
		}
		if i+1 >= len(b) {
			return fmt.Errorf("%w: option kind %d at offset %d has no length byte", ErrOptionLength, kind, i)
		}
		l := int(b[i+1])
		if l < 2 {
			return fmt.Errorf("%w: option kind %d at offset %d has length %d < 2", ErrOptionLength, kind, i, l)
		}
		if i+l > len(b) {
			return fmt.Errorf("%w: option kind %d at offset %d has length %d, only %d bytes left", ErrOptionLength, kind, i, l, len(b)-i)
		}
		v := b[i+2 : i+l]
		want := -1
		switch kind {
		case OptMSS:
			want = 4
		case OptWindowScale:
			want = 3
		case OptSACKPermitted:
			want = 2
		case OptTimestamps:
			want = 10
		case OptSACK:
			if (l-2)%8 != 0 || l == 2 || (l-2)/8 > MaxSACKBlocks {
				return fmt.Errorf("%w: SACK option at offset %d has length %d, want 2+8n with 1<=n<=4", ErrOptionLength, i, l)
			}
		}
		if want >= 0 && l != want {
			return fmt.Errorf("%w: option kind %d at offset %d has length %d, want %d", ErrOptionLength, kind, i, l, want)
		}
		switch kind {
		case OptMSS:
			o.MSS = binary.BigEndian.Uint16(v)
		case OptWindowScale:
			o.HasWindowScale = true
			o.WindowScale = min(v[0], MaxWindowScale) // RFC 7323 §2.3: clamp to 14
		case OptSACKPermitted:
			o.SACKPermitted = true
		case OptTimestamps:
			o.HasTimestamps = true
			o.TSVal = binary.BigEndian.Uint32(v)
			o.TSEcr = binary.BigEndian.Uint32(v[4:])
		case OptSACK:
			o.NumSACK = len(v) / 8
			for k := range o.NumSACK {
				o.SACK[k] = SACKBlock{binary.BigEndian.Uint32(v[8*k:]), binary.BigEndian.Uint32(v[8*k+4:])}
			}
		default:
			o.Unknown++
		}
		i += l
	}
	return nil
}

// String renders the present options, e.g. "[mss=1460 ws=7 ts=5/0]".
func (o *Options) String() string {
	var p []string
	if o.MSS != 0 {
		p = append(p, fmt.Sprintf("mss=%d", o.MSS))
	}
	if o.HasWindowScale {
		p = append(p, fmt.Sprintf("ws=%d", o.WindowScale))
	}
	if o.SACKPermitted {
		p = append(p, "sackok")
	}
	if o.HasTimestamps {
		p = append(p, fmt.Sprintf("ts=%d/%d", o.TSVal, o.TSEcr))
	}
	for _, s := range o.SACK[:min(max(o.NumSACK, 0), MaxSACKBlocks)] {
		p = append(p, fmt.Sprintf("sack=%d-%d", s.Left, s.Right))
	}
	if o.Unknown > 0 {
		p = append(p, fmt.Sprintf("unknown=%d", o.Unknown))
	}
	return "[" + strings.Join(p, " ") + "]"
}
