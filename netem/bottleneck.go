package netem

// bottleneck serialises packets at Profile.Bandwidth or along Profile.Trace,
// with a drop-tail queue of packets waiting to be serialised. It is pure
// state: time comes in as ns since the pipe's base; the pipe holds the lock.
type bottleneck struct {
	waiting   fifo
	waitBytes int
	busy      bool   // a packet is being serialised
	inService packet // its at is the departure time
	rem       int64  // fractional remainder of bit-time, for exact long-run rates
	cursor    traceCursor
}

// admit reports whether a packet of size bytes fits: it always does when the
// serialiser is idle, else when the waiting bytes stay within limit (0 = no
// limit).
func (b *bottleneck) admit(size, limit int) bool {
	if !b.busy {
		return true
	}
	return limit == 0 || b.waitBytes+size <= limit
}

// enqueue adds an admitted packet at time now.
func (b *bottleneck) enqueue(p packet, now int64, pr *Profile) {
	if !b.busy {
		b.start(p, now, pr)
		return
	}
	b.waiting.push(p)
	b.waitBytes += len(p.buf)
}

// start begins serialising p at time t.
func (b *bottleneck) start(p packet, t int64, pr *Profile) {
	b.busy = true
	switch {
	case pr.Trace != nil:
		p.at = b.cursor.consume(pr.Trace, 0, t, len(p.buf))
	case pr.Bandwidth > 0:
		bits := int64(len(p.buf))*8*1e9 + b.rem
		p.at = t + bits/pr.Bandwidth
		b.rem = bits % pr.Bandwidth
	default: // bottleneck removed while packets waited: they leave at once
		p.at = t
	}
	b.inService = p
}

// departNext returns the next packet whose serialisation ends at or before
// now, starting the following one back to back.
func (b *bottleneck) departNext(now int64, pr *Profile) (packet, bool) {
	if !b.busy || b.inService.at > now {
		return packet{}, false
	}
	done := b.inService
	b.inService = packet{}
	b.busy = false
	if b.waiting.len() > 0 {
		next := b.waiting.pop()
		b.waitBytes -= len(next.buf)
		b.start(next, done.at, pr)
	} else {
		b.rem = 0
	}
	return done, true
}

// nextDeparture is the time the packet in service leaves, if any.
func (b *bottleneck) nextDeparture() (int64, bool) {
	return b.inService.at, b.busy
}
