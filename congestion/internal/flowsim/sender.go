package flowsim

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// packet states in the send history
const (
	outstanding uint8 = iota
	acked
	lost
)

type sentRec struct {
	sent  time.Time
	unit  uint64
	state uint8
}

// SenderStats counts what a Sender did.
type SenderStats struct {
	Sent, Retransmitted, DeclaredLost, RTOs uint64
}

// Sender is an always-backlogged bulk sender. Each packet carries one data
// unit (new, or one declared lost earlier) under a new packet number.
// Losses are declared when a packet 3 numbers later is acked or after
// 9/8 × max(SRTT, latest RTT); an RTO (RFC 6298, backed off) declares the
// whole flight lost. Use NewSender. Not safe for concurrent use.
type Sender struct {
	CC  congestion.Controller
	RTT *RTTEstimator

	size         int
	nextPN       uint64
	nextUnit     uint64
	retx         []uint64
	hist         []sentRec // hist[i] is packet base+i
	base         uint64
	flight       int
	largestAcked uint64
	lossTime     time.Time
	rtoAt        time.Time
	backoff      uint
	Stats        SenderStats
}

// NewSender returns a sender of size-byte packets driven by cc, whose RTT
// samples go to rtt (which cc may read).
func NewSender(cc congestion.Controller, rtt *RTTEstimator, size int) *Sender {
	return &Sender{CC: cc, RTT: rtt, size: size, nextPN: 1, base: 1}
}

// BytesInFlight returns the bytes sent and neither acked nor declared lost.
func (s *Sender) BytesInFlight() int { return s.flight }

// TrySend returns the next packet to send at now, or ok false and the time
// pacing allows the next one (zero: wait for an ack or the timer).
func (s *Sender) TrySend(now time.Time) (pn, unit uint64, ok bool, wake time.Time) {
	if !s.CC.CanSend(s.flight) {
		return 0, 0, false, time.Time{}
	}
	if at := s.CC.TimeUntilSend(s.flight); at.After(now) {
		return 0, 0, false, at
	}
	if n := len(s.retx); n > 0 {
		unit = s.retx[0]
		s.retx = s.retx[1:]
		s.Stats.Retransmitted++
	} else {
		unit = s.nextUnit
		s.nextUnit++
	}
	pn = s.nextPN
	s.nextPN++
	s.hist = append(s.hist, sentRec{sent: now, unit: unit})
	s.CC.OnPacketSent(now, pn, s.size, s.flight)
	s.flight += s.size
	s.Stats.Sent++
	if s.rtoAt.IsZero() {
		s.rtoAt = now.Add(s.rto())
	}
	return pn, unit, true, time.Time{}
}

func (s *Sender) rto() time.Duration { return s.RTT.RTO() << min(s.backoff, 6) }

func (s *Sender) rec(pn uint64) *sentRec {
	if pn < s.base || pn >= s.base+uint64(len(s.hist)) {
		return nil
	}
	return &s.hist[pn-s.base]
}

// OnAck processes the acknowledgement of packet pn at now.
func (s *Sender) OnAck(now time.Time, pn uint64) {
	r := s.rec(pn)
	if r == nil || r.state != outstanding {
		return // unknown, duplicate, or already declared lost
	}
	r.state = acked
	prior := s.flight
	s.flight -= s.size
	s.CC.OnPacketAcked(now, pn, s.size, prior)
	if pn > s.largestAcked {
		s.largestAcked = pn
		s.RTT.Update(now.Sub(r.sent))
	}
	s.backoff = 0
	s.detectLosses(now)
	s.trim()
	s.rtoAt = time.Time{}
	if s.flight > 0 {
		s.rtoAt = now.Add(s.rto())
	}
}

func (s *Sender) lossDelay() time.Duration {
	return max(s.RTT.SmoothedRTT(), s.RTT.LatestRTT())*9/8 + time.Millisecond
}

// detectLosses applies the packet and time thresholds.
func (s *Sender) detectLosses(now time.Time) {
	s.lossTime = time.Time{}
	thr := s.lossDelay()
	for pn := s.base; pn < s.largestAcked; pn++ {
		r := s.rec(pn)
		if r.state != outstanding {
			continue
		}
		if s.largestAcked-pn >= 3 || now.Sub(r.sent) >= thr {
			s.declareLost(now, pn, r)
			continue
		}
		if at := r.sent.Add(thr); s.lossTime.IsZero() || at.Before(s.lossTime) {
			s.lossTime = at
		}
	}
}

func (s *Sender) declareLost(now time.Time, pn uint64, r *sentRec) {
	r.state = lost
	prior := s.flight
	s.flight -= s.size
	s.retx = append(s.retx, r.unit)
	s.Stats.DeclaredLost++
	s.CC.OnCongestionEvent(now, pn, s.size, prior)
}

// trim drops settled packets from the front of the history.
func (s *Sender) trim() {
	i := 0
	for i < len(s.hist) && s.hist[i].state != outstanding {
		i++
	}
	if i > 0 {
		s.hist = s.hist[:copy(s.hist, s.hist[i:])]
		s.base += uint64(i)
	}
}

// Deadline returns when OnTimer must run next (zero: no timer).
func (s *Sender) Deadline() time.Time {
	switch {
	case s.lossTime.IsZero():
		return s.rtoAt
	case s.rtoAt.IsZero() || s.lossTime.Before(s.rtoAt):
		return s.lossTime
	}
	return s.rtoAt
}

// OnTimer runs the time-threshold loss detection and the RTO.
func (s *Sender) OnTimer(now time.Time) {
	if !s.lossTime.IsZero() && !now.Before(s.lossTime) {
		s.detectLosses(now)
		s.trim()
	}
	if s.rtoAt.IsZero() || now.Before(s.rtoAt) {
		return
	}
	s.rtoAt = time.Time{}
	if s.flight == 0 {
		return
	}
	s.Stats.RTOs++
	s.CC.OnRetransmissionTimeout(now)
	for pn := s.base; pn < s.nextPN; pn++ {
		if r := s.rec(pn); r.state == outstanding {
			s.declareLost(now, pn, r)
		}
	}
	s.lossTime = time.Time{}
	s.trim()
	s.backoff++
}
