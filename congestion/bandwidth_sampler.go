package congestion

import "time"

// sentPacket is the delivery state recorded when a packet left
// (draft-cheng-iccrg-delivery-rate-estimation §3.2 "P.delivered" etc.).
type sentPacket struct {
	pn            uint64
	bytes         int
	present       bool
	appLimited    bool
	sentTime      time.Time
	delivered     int64     // C.delivered when sent
	deliveredTime time.Time // C.delivered_time when sent
	firstSentTime time.Time // C.first_sent_time when sent
	txInflight    int       // bytes in flight once it left, itself included (BBRv2 tx_in_flight)
	lost          int64     // C.lost when sent
	probing       bool      // sent in PROBE_BW's 1.25 phase (set by BBR)
}

// rateSample is one delivery-rate sample, taken when a packet is acked.
type rateSample struct {
	bw             Bandwidth
	interval       time.Duration
	rtt            time.Duration
	priorDelivered int64 // the acked packet's delivered mark
	appLimited     bool
}

// Bounds of the per-packet ring (packets, powers of two).
const (
	samplerInitialSlots = 256
	samplerMaxSlots     = 1 << 16
)

// bandwidthSampler estimates the delivery rate from acks, as in the draft
// cited above: each packet remembers how much had been delivered when it
// left, so its ack yields delivered bytes over the longer of the send and
// ack intervals. Per-packet state lives in a power-of-two ring indexed by
// packet number, which grows while the flight needs it (up to
// samplerMaxSlots packets; beyond, the oldest records are overwritten and
// their acks give no sample). The zero value is ready to use. Not safe for
// concurrent use.
type bandwidthSampler struct {
	ring          []sentPacket
	delivered     int64     // C.delivered
	deliveredTime time.Time // C.delivered_time
	firstSentTime time.Time // C.first_sent_time
	appLimitedEnd int64     // C.app_limited: marks until delivered passes it
	lost          int64     // C.lost: bytes declared lost
}

// onSent records packet pn of bytes sent at now with flight bytes already
// outstanding, and returns its record.
func (s *bandwidthSampler) onSent(now time.Time, pn uint64, bytes, flight int) *sentPacket {
	if flight == 0 {
		s.firstSentTime, s.deliveredTime = now, now
	}
	slot := s.slot(pn)
	*slot = sentPacket{
		pn: pn, bytes: bytes, present: true, sentTime: now,
		delivered: s.delivered, deliveredTime: s.deliveredTime, firstSentTime: s.firstSentTime,
		appLimited: s.appLimitedEnd > s.delivered, txInflight: flight + bytes, lost: s.lost,
	}
	return slot
}

// markAppLimited flags packets sent until everything now in flight is
// delivered as application-limited.
func (s *bandwidthSampler) markAppLimited(flight int) {
	s.appLimitedEnd = max(s.delivered+int64(flight), 1)
}

// slot returns the ring entry for pn, growing the ring if an older packet
// still occupies it.
func (s *bandwidthSampler) slot(pn uint64) *sentPacket {
	if len(s.ring) == 0 {
		s.ring = make([]sentPacket, samplerInitialSlots)
	}
	for {
		e := &s.ring[pn&uint64(len(s.ring)-1)]
		if !e.present || e.pn == pn || len(s.ring) >= samplerMaxSlots {
			return e
		}
		s.grow()
	}
}

func (s *bandwidthSampler) grow() {
	old := s.ring
	s.ring = make([]sentPacket, 2*len(old))
	mask := uint64(len(s.ring) - 1)
	for _, e := range old {
		if e.present {
			s.ring[e.pn&mask] = e
		}
	}
}

// take removes and returns pn's record.
func (s *bandwidthSampler) take(pn uint64) (sentPacket, bool) {
	if len(s.ring) == 0 {
		return sentPacket{}, false
	}
	e := &s.ring[pn&uint64(len(s.ring)-1)]
	if !e.present || e.pn != pn {
		return sentPacket{}, false
	}
	p := *e
	e.present = false
	return p, true
}

// onAcked removes pn and returns its rate sample and send record; ok is
// false if pn was not tracked. A sample over an empty interval has bw 0.
func (s *bandwidthSampler) onAcked(now time.Time, pn uint64) (rateSample, sentPacket, bool) {
	p, ok := s.take(pn)
	if !ok {
		return rateSample{}, p, false
	}
	s.delivered += int64(p.bytes)
	s.deliveredTime = now
	if p.sentTime.After(s.firstSentTime) {
		s.firstSentTime = p.sentTime
	}
	if s.appLimitedEnd != 0 && s.delivered > s.appLimitedEnd {
		s.appLimitedEnd = 0
	}
	rs := rateSample{
		rtt:            now.Sub(p.sentTime),
		priorDelivered: p.delivered,
		appLimited:     p.appLimited,
		interval:       max(p.sentTime.Sub(p.firstSentTime), now.Sub(p.deliveredTime)),
	}
	if rs.interval <= 0 {
		return rs, p, true // tracked, but no rate (bw 0)
	}
	rs.bw = Bandwidth(float64(s.delivered-p.delivered) * 8 / rs.interval.Seconds())
	return rs, p, true
}

// onLost forgets pn and counts lostBytes lost. It returns pn's send record
// and the bytes declared lost since pn left, pn included (BBRv2's rs.lost
// for that packet); ok is false if pn was not tracked.
func (s *bandwidthSampler) onLost(pn uint64, lostBytes int) (p sentPacket, lostSince int64, ok bool) {
	s.lost += int64(lostBytes)
	p, ok = s.take(pn)
	if !ok {
		return p, 0, false
	}
	return p, s.lost - p.lost, true
}
