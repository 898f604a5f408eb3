package rudp

import (
	"sort"
	"time"
)

// DefaultNackRetries is how often a receiver asks for one missing
// sequence number before it leaves the packet to the sender's timer.
const DefaultNackRetries = 8

// nackEntry is one missing reliable sequence number.
type nackEntry struct {
	seq     uint64
	t1      time.Time // when the gap was first seen
	t2      time.Time // when it was last reported
	reports int
	// revealPN is the packet number that revealed the gap (unknownPN
	// when the owner gives none): a later arrival of seq in a lower
	// packet number is the original, reordered; a retransmission always
	// travels in a higher one.
	revealPN uint64
}

// unknownPN marks an arrival whose packet number the owner did not give.
const unknownPN = ^uint64(0)

// NackList is the receiver's loss list: reliable sequence numbers seen
// missing (a later one arrived), with the times they were first seen and
// last reported. A gap seen at t1 is reported once t1 + RTTVAR has passed
// (it may only be reordered), then again every RTO while still missing, at
// most MaxReports times; an arrival removes its entry at once, whether the
// original or a retransmission. Its zero value is empty with
// DefaultNackRetries. Not safe for concurrent use.
type NackList struct {
	// MaxReports bounds the reports per sequence number (0: default).
	MaxReports int
	// SRTT is the owner's smoothed RTT, kept current by the owner; zero
	// disables learning the reordering allowance.
	SRTT time.Duration

	entries []nackEntry // ascending seq
	highest uint64      // one past the highest sequence number seen
	// reorder is the largest reordering delay observed: an original that
	// arrived after its gap was reported (too early for the answer to a
	// NACK) shows the path reorders by at least now − t1. The allowance is
	// the larger of RTTVAR and this (RFC 8985's adaptive reordering window,
	// applied at the receiver).
	reorder time.Duration
}

// Reordering returns the largest reordering delay learned.
func (l *NackList) Reordering() time.Duration { return l.reorder }

// Len returns the number of sequence numbers missing.
func (l *NackList) Len() int { return len(l.entries) }

// Missing reports whether seq is in the loss list.
func (l *NackList) Missing(seq uint64) bool {
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].seq >= seq })
	return i < len(l.entries) && l.entries[i].seq == seq
}

// Reports returns how often seq has been reported (0 if not missing).
func (l *NackList) Reports(seq uint64) int {
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].seq >= seq })
	if i < len(l.entries) && l.entries[i].seq == seq {
		return l.entries[i].reports
	}
	return 0
}

func (l *NackList) maxReports() int {
	if l.MaxReports > 0 {
		return l.MaxReports
	}
	return DefaultNackRetries
}

// OnReceived records the arrival of reliable sequence number seq at now
// when the packet number is not known; cum is the receiver's next expected
// sequence number (entries below it are dropped). When SRTT is set, an
// arrival less than SRTT/2 after its first report cannot be the answer to
// it: it was a reordered original, and the reordering allowance grows to
// cover it. After a second report nothing tells the answer to the first
// from a late original, so such arrivals teach nothing. Prefer
// OnReceivedPacket.
func (l *NackList) OnReceived(now time.Time, seq, cum uint64) {
	l.onReceived(now, unknownPN, seq, cum)
}

// OnReceivedPacket is OnReceived for seq arriving in packet number pn (the
// sender's per-transmission number, unwrapped). An arrival of a reported
// seq in a packet number below the one that revealed its gap is the
// original, reordered (a retransmission always gets a higher number), and
// the reordering allowance grows to cover it (at most SRTT; not at all
// while SRTT is zero). Retransmissions, however soon after a report they
// arrive, teach nothing: a real-time receiver whose answer comes late
// would otherwise take a whole RTT for reordering and delay every later
// NACK by it.
func (l *NackList) OnReceivedPacket(now time.Time, pn, seq, cum uint64) {
	l.onReceived(now, pn, seq, cum)
}

func (l *NackList) onReceived(now time.Time, pn, seq, cum uint64) {
	rtt := l.SRTT
	if seq >= l.highest {
		for s := max(l.highest, cum); s < seq; s++ {
			l.entries = append(l.entries, nackEntry{seq: s, t1: now, revealPN: pn})
		}
		l.highest = seq + 1
	} else {
		i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].seq >= seq })
		if i < len(l.entries) && l.entries[i].seq == seq {
			e := l.entries[i]
			original := e.reports == 1 && now.Sub(e.t2) < rtt/2
			if pn != unknownPN && e.revealPN != unknownPN {
				original = e.reports > 0 && pn < e.revealPN
			}
			if original {
				l.reorder = min(max(l.reorder, now.Sub(e.t1)+Granularity), rtt)
			}
			l.entries = append(l.entries[:i], l.entries[i+1:]...)
		}
	}
	// Drop what in-order delivery has passed.
	n := 0
	for n < len(l.entries) && l.entries[n].seq < cum {
		n++
	}
	if n > 0 {
		l.entries = append(l.entries[:0], l.entries[n:]...)
	}
}

// due returns when entry e should be reported next (zero: never again).
func (l *NackList) due(e *nackEntry, reorder, rto time.Duration) time.Time {
	reorder = max(reorder, l.reorder)
	switch {
	case e.reports == 0:
		return e.t1.Add(reorder)
	case e.reports < l.maxReports():
		return e.t2.Add(rto)
	}
	return time.Time{}
}

// Fill adds the sequence numbers due at now to ack's NACK ranges and marks
// them reported. reorder is the reordering allowance (the path's RTTVAR),
// rto the re-report interval.
func (l *NackList) Fill(now time.Time, ack *AckFrame, reorder, rto time.Duration) {
	for i := range l.entries {
		e := &l.entries[i]
		d := l.due(e, reorder, rto)
		if d.IsZero() || d.After(now) {
			continue
		}
		if !ack.AddNack(uint32(e.seq), 1) {
			return
		}
		e.t2 = now
		e.reports++
	}
}

// NextDue returns the earliest time an entry becomes due (zero: none).
func (l *NackList) NextDue(reorder, rto time.Duration) time.Time {
	var t time.Time
	for i := range l.entries {
		d := l.due(&l.entries[i], reorder, rto)
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	return t
}
