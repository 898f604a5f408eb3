package rtp

import (
	"time"

	"github.com/skiffnet/skiff/rtcp"
)

// missingPacket is a media sequence number the receiver has not seen.
type missingPacket struct {
	detected   time.Time
	next       time.Time // when to send the next NACK
	roundStart time.Time // first NACK of the current round
	rounds     int       // rounds started
	inRound    int       // NACKs sent in the current round
	priority   uint8     // of its frame, if a neighbour revealed it (else 255)
}

// nackTracker finds gaps in the media sequence and schedules NACKs (RFC
// 4585 generic NACK) in rounds. A gap's first round starts reorderWait
// after it is seen: one NACK, then `repeats` copies `repeat` apart, since
// feedback can be lost too (the sender answers only the first that
// arrives: it ignores a NACK for a packet it resent within a round trip).
// If the repair has not come srtt + max(4·rttvar, srtt/8, 2 ms) after a
// round began, the next round starts (the floor keeps a steady path, whose
// rttvar decays to nothing, from retrying while the repair still waits in
// the sender's pacing or the transport's queue); after maxRounds rounds, or once the gap is older
// than the caller's limit, it is given up. The RTT estimate (RFC 6298
// smoothing) is sampled from repairs in the first round, which are
// unambiguous. rttvar starts at InitialRTT/8 and the first sample R sets
// it to R/8, not RFC 6298's R/2 (which made the next rounds 3·R apart): a
// spurious NACK costs little (the sender ignores a NACK that left before
// its repair could arrive), a late one the frame.
// Not safe for concurrent use.
type nackTracker struct {
	unwrap      rtcp.SeqUnwrapper
	started     bool
	highest     int64
	missing     map[int64]*missingPacket
	maxMissing  int
	maxRounds   int
	reorderWait time.Duration
	repeat      time.Duration
	repeats     int
	minPriority uint8      // gaps of frames below this priority are not NACKed
	lastDesc    Descriptor // descriptor of the highest packet

	srtt, rttvar time.Duration
	haveRTT      bool
}

func newNACKTracker(initialRTT, reorderWait, repeat time.Duration, repeats, maxRounds, maxMissing int, minPriority uint8) *nackTracker {
	if repeat <= 0 {
		repeats = 0
	}
	return &nackTracker{missing: make(map[int64]*missingPacket), maxMissing: maxMissing, repeat: repeat, repeats: repeats,
		minPriority: minPriority,
		maxRounds:   maxRounds, reorderWait: reorderWait, srtt: initialRTT, rttvar: initialRTT / 8}
}

// prime starts the sequence at first, before any packet is recorded, so
// that a gap up to the first packet received is detected.
func (n *nackTracker) prime(first uint16) {
	if n.started {
		return
	}
	n.started, n.highest = true, n.unwrap.Unwrap(first-1)
}

// onPacket records media sequence number seq, carrying descriptor d,
// arriving at now; rtx says it came as a retransmission. It returns the
// extended sequence number and whether it was a repair of a gap. Missing
// packets that fall inside d's frame, or inside the frame of the previous
// highest packet, take that frame's priority; those below minPriority are
// never NACKed (the sender would not resend them).
func (n *nackTracker) onPacket(now time.Time, seq uint16, d Descriptor, rtx bool) (int64, bool) {
	ext := n.unwrap.Unwrap(seq)
	if !n.started {
		n.started, n.highest, n.lastDesc = true, ext, d
		return ext, false
	}
	if ext > n.highest {
		// Only the last maxMissing sequence numbers below ext are tracked:
		// forget older gaps in one pass (no per-entry scans).
		floor := ext - int64(n.maxMissing)
		from := max(n.highest+1, floor)
		if len(n.missing)+int(ext-from) > n.maxMissing {
			for s := range n.missing {
				if s < floor {
					delete(n.missing, s)
				}
			}
		}
		prevEnd := n.highest + int64(n.lastDesc.Count) - 1 - int64(n.lastDesc.Index) // last seq of the previous frame
		curStart := ext - int64(d.Index)                                             // first seq of d's frame
		for s := from; s < ext; s++ {
			prio := uint8(255)
			switch {
			case s >= curStart:
				prio = d.Priority
			case n.lastDesc.Count > 0 && s <= prevEnd:
				prio = n.lastDesc.Priority
			}
			if prio < n.minPriority {
				continue
			}
			n.missing[s] = &missingPacket{detected: now, next: now.Add(n.reorderWait), priority: prio}
		}
		n.highest, n.lastDesc = ext, d
		return ext, false
	}
	m, ok := n.missing[ext]
	if !ok {
		return ext, false
	}
	if rtx && m.rounds == 1 {
		n.sample(now.Sub(m.roundStart))
	}
	delete(n.missing, ext)
	return ext, true
}

// forget stops tracking seq (repaired by other means, e.g. FEC).
func (n *nackTracker) forget(seq uint16) {
	if n.started {
		delete(n.missing, n.unwrap.Unwrap(seq))
	}
}

// sample folds an RTT measurement in (RFC 6298 §2).
func (n *nackTracker) sample(r time.Duration) {
	if !n.haveRTT {
		n.srtt, n.rttvar, n.haveRTT = r, r/8, true
		return
	}
	d := n.srtt - r
	if d < 0 {
		d = -d
	}
	n.rttvar = (3*n.rttvar + d) / 4
	n.srtt = (7*n.srtt + r) / 8
}

// retryInterval is the time from a round's start to the next round.
func (n *nackTracker) retryInterval() time.Duration {
	return n.srtt + max(4*n.rttvar, n.srtt/8, 2*time.Millisecond)
}

// due appends the sequence numbers to NACK at now to dst. Gaps older than
// maxAge (0: no limit) or past maxRounds rounds are given up.
func (n *nackTracker) due(now time.Time, maxAge time.Duration, dst []uint16) []uint16 {
	for s, m := range n.missing {
		if maxAge > 0 && now.Sub(m.detected) > maxAge {
			delete(n.missing, s)
			continue
		}
		if now.Before(m.next) {
			continue
		}
		if m.inRound == 0 {
			if m.rounds >= n.maxRounds {
				delete(n.missing, s)
				continue
			}
			m.rounds++
			m.roundStart = now
		}
		dst = append(dst, uint16(s))
		m.inRound++
		if m.inRound <= n.repeats {
			m.next = now.Add(n.repeat)
		} else {
			m.inRound = 0
			m.next = m.roundStart.Add(n.retryInterval())
			if m.next.Before(now) {
				m.next = now.Add(n.repeat)
			}
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
