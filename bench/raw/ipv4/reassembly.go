package ipv4

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// Reassembly errors; each is wrapped with the datagram and values involved.
var (
	ErrOverlap        = errors.New("ipv4: overlapping fragment")
	ErrFragment       = errors.New("ipv4: malformed fragment")
	ErrReassemblyFull = errors.New("ipv4: reassembly buffer full")
)

// ReassemblerConfig bounds a Reassembler. Zero fields take the defaults.
type ReassemblerConfig struct {
	Timeout    time.Duration // a datagram incomplete this long after its first fragment is dropped; default 30s
	MaxPending int           // datagrams being reassembled at once; default 64
	MaxBytes   int           // fragment payload bytes held over all pending datagrams; default 4 MiB
}

// Reassembler puts fragmented IPv4 datagrams back together (RFC 791 §3.2,
// RFC 815). Fragments may arrive in any order; exact duplicates are ignored;
// a fragment that overlaps a different one drops its whole datagram (as Linux
// does, RFC 5722 in spirit). Memory is bounded: at most MaxPending datagrams
// and MaxBytes payload bytes; when a new fragment would exceed either, the
// oldest pending datagrams are evicted, and a fragment that alone exceeds
// MaxBytes is rejected. Incomplete datagrams expire after Timeout.
//
// Allocation: Add copies each fragment's payload once and allocates the
// reassembled payload once (about 8 small allocations for a 3-fragment
// datagram); held bytes never exceed MaxBytes.
//
// Create with NewReassembler; the zero value is not usable. Not safe for
// concurrent use: one goroutine owns it and passes now explicitly.
type Reassembler struct {
	cfg     ReassemblerConfig
	pending map[fragKey]*partial
	bytes   int
	stats   ReassemblyStats
}

// ReassemblyStats counts what a Reassembler did.
type ReassemblyStats struct {
	Fragments   uint64 // fragments offered
	Reassembled uint64 // datagrams completed
	Duplicates  uint64 // exact duplicate fragments ignored
	Overlaps    uint64 // datagrams dropped for overlapping fragments
	Malformed   uint64 // fragments rejected as malformed
	TimedOut    uint64 // datagrams expired
	Evicted     uint64 // datagrams evicted to respect the bounds
}

type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    uint8
}

type piece struct {
	off, end int // byte range in the datagram payload
	data     []byte
}

type partial struct {
	first   time.Time
	hdr     Header // from the offset-0 fragment, once seen
	haveHdr bool
	total   int     // payload length, known once the last fragment (MF=0) arrives; -1 before
	pieces  []piece // sorted by off, non-overlapping
	bytes   int
}

// NewReassembler returns a Reassembler with cfg's bounds (defaults for zeros).
func NewReassembler(cfg ReassemblerConfig) *Reassembler {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 64
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 4 << 20
	}
	return &Reassembler{cfg: cfg, pending: map[fragKey]*partial{}}
}

// Pending returns the number of incomplete datagrams held.
func (r *Reassembler) Pending() int { return len(r.pending) }

// Bytes returns the fragment payload bytes held.
func (r *Reassembler) Bytes() int { return r.bytes }

// Stats returns the counters so far.
func (r *Reassembler) Stats() ReassemblyStats { return r.stats }

// Add offers one packet at time now. For a packet that is not a fragment it
// returns h and payload unchanged with done true. For a fragment it copies the
// payload and returns done true with the reassembled datagram's header (offset
// 0, MF clear, TotalLength recomputed, options of the first fragment) and a
// newly allocated payload once the last missing piece arrives, and done false
// otherwise. Expired datagrams are dropped first.
func (r *Reassembler) Add(now time.Time, h *Header, payload []byte) (Header, []byte, bool, error) {
	if !h.IsFragment() {
		return *h, payload, true, nil
	}
	r.stats.Fragments++
	r.Expire(now)
	off := int(h.FragmentOffset) * 8
	end := off + len(payload)
	key := fragKey{src: h.Src, dst: h.Dst, id: h.ID, proto: h.Protocol}
	if err := r.checkFragment(h, off, end); err != nil {
		r.stats.Malformed++
		return Header{}, nil, false, fmt.Errorf("%w (id %d from %s)", err, h.ID, h.Src)
	}
	if len(payload) > r.cfg.MaxBytes {
		r.stats.Malformed++
		return Header{}, nil, false, fmt.Errorf("%w: fragment of %d bytes exceeds the %d-byte limit", ErrReassemblyFull, len(payload), r.cfg.MaxBytes)
	}
	p := r.pending[key]
	if p == nil {
		p = &partial{first: now, total: -1}
		r.makeRoom(len(payload), 1)
		r.pending[key] = p
	} else if r.bytes+len(payload) > r.cfg.MaxBytes {
		r.makeRoom(len(payload), 0)
		if r.pending[key] == nil { // evicted itself: start over
			p = &partial{first: now, total: -1}
			r.pending[key] = p
		}
	}
	if !h.MF() {
		if p.total >= 0 && p.total != end {
			r.drop(key, p)
			r.stats.Malformed++
			return Header{}, nil, false, fmt.Errorf("%w: datagram id %d ends at %d and at %d", ErrFragment, h.ID, p.total, end)
		}
		if n := len(p.pieces); n > 0 && p.pieces[n-1].end > end {
			r.drop(key, p)
			r.stats.Malformed++
			return Header{}, nil, false, fmt.Errorf("%w: datagram id %d ends at %d but holds bytes up to %d", ErrFragment, h.ID, end, p.pieces[n-1].end)
		}
		p.total = end
	} else if p.total >= 0 && end > p.total {
		r.drop(key, p)
		r.stats.Malformed++
		return Header{}, nil, false, fmt.Errorf("%w: datagram id %d fragment ends at %d past its end %d", ErrFragment, h.ID, end, p.total)
	}
	i := sort.Search(len(p.pieces), func(i int) bool { return p.pieces[i].off >= off })
	if i < len(p.pieces) && p.pieces[i].off == off && p.pieces[i].end == end && string(p.pieces[i].data) == string(payload) {
		r.stats.Duplicates++
		return Header{}, nil, false, nil
	}
	if (i > 0 && p.pieces[i-1].end > off) || (i < len(p.pieces) && p.pieces[i].off < end) {
		r.drop(key, p)
		r.stats.Overlaps++
		return Header{}, nil, false, fmt.Errorf("%w: datagram id %d from %s, bytes %d-%d", ErrOverlap, h.ID, h.Src, off, end)
	}
	p.pieces = append(p.pieces, piece{})
	copy(p.pieces[i+1:], p.pieces[i:])
	p.pieces[i] = piece{off: off, end: end, data: append([]byte(nil), payload...)}
	p.bytes += len(payload)
	r.bytes += len(payload)
	if off == 0 {
		p.hdr, p.haveHdr = *h, true
	}
	if !p.complete() {
		return Header{}, nil, false, nil
	}
	out := make([]byte, 0, p.total)
	for _, pc := range p.pieces {
		out = append(out, pc.data...)
	}
	hdr := p.hdr
	hdr.Flags &^= FlagMF
	hdr.FragmentOffset = 0
	hdr.TotalLength = uint16(hdr.MarshalSize() + p.total)
	r.drop(key, p)
	r.stats.Reassembled++
	return hdr, out, true, nil
}

func (r *Reassembler) checkFragment(h *Header, off, end int) error {
	if h.MF() && (end-off)%8 != 0 {
		return fmt.Errorf("%w: %d-byte non-final fragment is not a multiple of 8", ErrFragment, end-off)
	}
	if h.MF() && end == off {
		return fmt.Errorf("%w: empty non-final fragment at %d", ErrFragment, off)
	}
	if h.MarshalSize()+end > MaxTotalLen {
		return fmt.Errorf("%w: fragment ends at %d, past the %d-byte datagram limit", ErrFragment, end, MaxTotalLen)
	}
	return nil
}

func (p *partial) complete() bool {
	if p.total < 0 || !p.haveHdr {
		return false
	}
	at := 0
	for _, pc := range p.pieces {
		if pc.off != at {
			return false
		}
		at = pc.end
	}
	return at == p.total
}

func (r *Reassembler) drop(key fragKey, p *partial) {
	delete(r.pending, key)
	r.bytes -= p.bytes
}

// makeRoom evicts the oldest datagrams until extraBytes more bytes and
// extraDatagrams more datagrams fit within the bounds.
func (r *Reassembler) makeRoom(extraBytes, extraDatagrams int) {
	for len(r.pending) > 0 && (r.bytes+extraBytes > r.cfg.MaxBytes || len(r.pending)+extraDatagrams > r.cfg.MaxPending) {
		var oldK fragKey
		var old *partial
		for k, p := range r.pending {
			if old == nil || p.first.Before(old.first) {
				oldK, old = k, p
			}
		}
		r.drop(oldK, old)
		r.stats.Evicted++
	}
}

// Expire drops datagrams whose first fragment arrived Timeout or more before
// now and returns how many it dropped.
func (r *Reassembler) Expire(now time.Time) int {
	n := 0
	for k, p := range r.pending {
		if now.Sub(p.first) >= r.cfg.Timeout {
			r.drop(k, p)
			n++
		}
	}
	r.stats.TimedOut += uint64(n)
	return n
}

// NextExpiry returns when the oldest pending datagram expires (zero time if none).
func (r *Reassembler) NextExpiry() time.Time {
	var t time.Time
	for _, p := range r.pending {
		if e := p.first.Add(r.cfg.Timeout); t.IsZero() || e.Before(t) {
			t = e
		}
	}
	return t
}
