package flowsim

import "time"

// Receiver counts the unique data units that arrived (goodput) in bins of
// bin duration since start. Not safe for concurrent use.
type Receiver struct {
	start  time.Time
	bin    time.Duration
	size   int
	seen   []uint64 // bitmap of unit numbers
	Unique uint64   // unique units received
	Dups   uint64   // units received more than once
	Bins   []int64  // unique bytes per bin
}

// NewReceiver returns a receiver whose bins start at start.
func NewReceiver(start time.Time, bin time.Duration, size int) *Receiver {
	return &Receiver{start: start, bin: bin, size: size}
}

// OnData records unit arriving at now.
func (r *Receiver) OnData(now time.Time, unit uint64) {
	w := int(unit / 64)
	for w >= len(r.seen) {
		r.seen = append(r.seen, 0)
	}
	if r.seen[w]&(1<<(unit%64)) != 0 {
		r.Dups++
		return
	}
	r.seen[w] |= 1 << (unit % 64)
	r.Unique++
	b := int(now.Sub(r.start) / r.bin)
	if b < 0 {
		return
	}
	for b >= len(r.Bins) {
		r.Bins = append(r.Bins, 0)
	}
	r.Bins[b] += int64(r.size)
}
