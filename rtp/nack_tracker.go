package rtp

import (
	"time"

	"github.com/skiffnet/skiff/rtcp"
)

// missingPacket is a media sequence number the receiver has not seen.
type missingPacket struct {
	detected time.Time
	next     time.Time // when to (re)send a NACK
	lastNACK time.Time
	sent     int
}

// nackTracker finds gaps in the media sequence and schedules NACKs (RFC
// 4585 generic NACK): a gap is NACKed after reorderWait, once more after
// repeat (feedback can be lost too; the sender ignores a NACK it answered
// within half a round trip), then every srtt + 4·rttvar until repaired, too old, or maxRetries NACKs went out.
// Its RTT estimate (RFC 6298 smoothing) is sampled from the time between a
// packet's single NACK and its RTX repair. Not safe for concurrent use.
type nackTracker struct {
	unwrap      rtcp.SeqUnwrapper
	started     bool
	highest     int64
	missing     map[int64]*missingPacket
	maxMissing  int
	maxRetries  int
	reorderWait time.Duration
	repeat      time.Duration

	srtt, rttvar time.Duration
	haveRTT      bool
}

func newNACKTracker(initialRTT, reorderWait, repeat time.Duration, maxRetries, maxMissing int) *nackTracker {
	return &nackTracker{missing: make(map[int64]*missingPacket), maxMissing: maxMissing, repeat: repeat,
		maxRetries: maxRetries, reorderWait: reorderWait, srtt: initialRTT, rttvar: initialRTT / 2}
}

// prime starts the sequence at first, before any packet is recorded, so
// that a gap up to the first packet received is detected.
func (n *nackTracker) prime(first uint16) {
	if n.started {
		return
	}
	n.started, n.highest = true, n.unwrap.Unwrap(first-1)
}

// onPacket records media sequence number seq arriving at now; rtx says it
// came as a retransmission. It returns the extended sequence number and
// whether it was a repair of a gap.
func (n *nackTracker) onPacket(now time.Time, seq uint16, rtx bool) (int64, bool) {
	ext := n.unwrap.Unwrap(seq)
	if !n.started {
		n.started, n.highest = true, ext
		return ext, false
	}
	if ext > n.highest {
		from := n.highest + 1
		if ext-from > int64(n.maxMissing) {
			from = ext - int64(n.maxMissing)
		}
		for s := from; s < ext; s++ {
			n.missing[s] = &missingPacket{detected: now, next: now.Add(n.reorderWait)}
		}
		n.highest = ext
		for len(n.missing) > n.maxMissing {
			n.dropOldest()
		}
		return ext, false
	}
	m, ok := n.missing[ext]
	if !ok {
		return ext, false
	}
	if rtx && m.sent == 1 {
		n.sample(now.Sub(m.lastNACK))
	}
	delete(n.missing, ext)
	return ext, true
}

func (n *nackTracker) dropOldest() {
	oldest := int64(-1)
	for s := range n.missing {
		if oldest < 0 || s < oldest {
			oldest = s
		}
	}
	delete(n.missing, oldest)
}

// sample folds an RTT measurement in (RFC 6298 §2).
func (n *nackTracker) sample(r time.Duration) {
	if !n.haveRTT {
		n.srtt, n.rttvar, n.haveRTT = r, r/2, true
		return
	}
	d := n.srtt - r
	if d < 0 {
		d = -d
	}
	n.rttvar = (3*n.rttvar + d) / 4
	n.srtt = (7*n.srtt + r) / 8
}

func (n *nackTracker) retryInterval() time.Duration {
	return max(n.srtt+4*n.rttvar, 5*time.Millisecond)
}

// due appends the sequence numbers to NACK at now to dst. Gaps older than
// maxAge (0: no limit) or NACKed maxRetries times are given up.
func (n *nackTracker) due(now time.Time, maxAge time.Duration, dst []uint16) []uint16 {
	for s, m := range n.missing {
		if maxAge > 0 && now.Sub(m.detected) > maxAge || m.sent >= n.maxRetries {
			delete(n.missing, s)
			continue
		}
		if now.Before(m.next) {
			continue
		}
		dst = append(dst, uint16(s))
		m.sent++
		m.lastNACK = now
		if m.sent == 1 && n.repeat > 0 {
			m.next = now.Add(n.repeat) // quick second NACK in case the first is lost
		} else {
			m.next = now.Add(n.retryInterval())
		}
	}
	return dst
}

// nextTimeout returns the earliest NACK time (zero if none).
func (n *nackTracker) nextTimeout() time.Time {
	var t time.Time
	for _, m := range n.missing {
		if t.IsZero() || m.next.Before(t) {
			t = m.next
		}
	}
	return t
}
