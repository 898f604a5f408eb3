package rtcp

import (
	"math"
	"time"

	pionrtcp "github.com/pion/rtcp"
)

// RFC 3550 A.1 constants.
const (
	maxDropout  = 3000 // a forward jump larger than this is a restart candidate
	maxMisorder = 100  // a backward jump up to this is a late (reordered) packet
	seqMod      = 1 << 16
)

// ReceiverStats keeps RFC 3550 reception statistics for one source (SSRC):
// the extended highest sequence number (A.1), packets expected, received and
// lost (A.3), the interarrival jitter (A.8) and the last sender report time
// for LSR/DLSR (§6.4.1). Feed it every RTP packet of the source with
// OnPacket and every SR with OnSenderReport; call Report when building an
// SR/RR. The zero value is not usable: use NewReceiverStats. Not safe for
// concurrent use.
type ReceiverStats struct {
	ssrc      uint32
	clockRate uint32

	started  bool
	maxSeq   uint16 // highest seq seen (RFC 3550 A.1 max_seq)
	cycles   uint32 // shifted count of seq cycles (A.1 cycles)
	baseSeq  uint32 // first seq (A.1 base_seq)
	badSeq   uint32 // last "bad" seq + 1 (A.1 bad_seq)
	received uint32 // packets received (A.1 received), duplicates included

	expectedPrior uint32 // A.3 expected_prior
	receivedPrior uint32 // A.3 received_prior

	// A.8 jitter, kept in timestamp units as a float to keep the 1/16 gain exact.
	jitter      float64
	lastTransit int64
	haveTransit bool
	epoch       time.Time // arrival times are measured from here

	lastSR     uint32    // middle 32 bits of the last SR's NTP time
	lastSRTime time.Time // when it arrived
}

// NewReceiverStats returns statistics for source ssrc whose RTP clock runs at
// clockRate Hz (90000 for video). clockRate 0 is taken as 90000.
func NewReceiverStats(ssrc, clockRate uint32) *ReceiverStats {
	if clockRate == 0 {
		clockRate = 90000
	}
	return &ReceiverStats{ssrc: ssrc, clockRate: clockRate}
}

// SSRC returns the source these statistics describe.
func (s *ReceiverStats) SSRC() uint32 { return s.ssrc }

func (s *ReceiverStats) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // so seq == badSeq is false
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// OnPacket records an RTP packet with sequence number seq and RTP timestamp
// ts that arrived at now. It returns false when the packet was judged invalid
// by the RFC 3550 A.1 rules (a large jump not yet confirmed by a second
// packet) and so not counted.
func (s *ReceiverStats) OnPacket(now time.Time, seq uint16, ts uint32) bool {
	if !s.started {
		s.started = true
		s.epoch = now
		s.initSeq(seq)
		s.received = 1
		s.updateJitter(now, ts)
		return true
	}
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		// In order, with a permissible gap.
		if seq < s.maxSeq {
			s.cycles += seqMod // wrapped
		}
		s.maxSeq = seq
	case uint32(udelta) <= seqMod-maxMisorder:
		// A very large jump: accept only if the next packet follows it
		// (the source restarted).
		if uint32(seq) == s.badSeq {
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// Duplicate or reordered packet: counted, max unchanged.
	}
	s.received++
	s.updateJitter(now, ts)
	return true
}

// updateJitter applies RFC 3550 A.8: J += (|D| - J)/16 with D the difference
// of relative transit times in timestamp units.
func (s *ReceiverStats) updateJitter(now time.Time, ts uint32) {
	arrival := int64(now.Sub(s.epoch)) * int64(s.clockRate) / int64(time.Second)
	transit := arrival - int64(ts)
	if s.haveTransit {
		d := transit - s.lastTransit
		// Timestamps are 32-bit: fold d into int32 range so a wrap of ts is
		// not taken as a huge jump.
		d = int64(int32(d))
		s.jitter += (math.Abs(float64(d)) - s.jitter) / 16
	}
	s.lastTransit = transit
	s.haveTransit = true
}

// OnSenderReport records that an SR carrying NTP time ntp arrived at now.
func (s *ReceiverStats) OnSenderReport(now time.Time, ntp uint64) {
	s.lastSR = NTPMiddle(ntp)
	s.lastSRTime = now
}

// ExtendedHighestSeq returns the extended highest sequence number received
// (cycles in the high 16 bits).
func (s *ReceiverStats) ExtendedHighestSeq() uint32 { return s.cycles + uint32(s.maxSeq) }

// Expected returns the number of packets expected so far (A.3).
func (s *ReceiverStats) Expected() uint32 {
	if !s.started {
		return 0
	}
	return s.ExtendedHighestSeq() - s.baseSeq + 1
}

// Received returns the number of packets counted (duplicates included).
func (s *ReceiverStats) Received() uint32 { return s.received }

// CumulativeLost returns expected - received, which may be negative when
// duplicates arrived (A.3).
func (s *ReceiverStats) CumulativeLost() int64 {
	return int64(s.Expected()) - int64(s.received)
}

// Jitter returns the interarrival jitter estimate in timestamp units.
func (s *ReceiverStats) Jitter() uint32 { return uint32(s.jitter) }

// JitterDuration returns the interarrival jitter as a duration.
func (s *ReceiverStats) JitterDuration() time.Duration {
	return time.Duration(s.jitter / float64(s.clockRate) * float64(time.Second))
}

// Report builds the reception report block for this source as of now and
// starts a new interval for the fraction-lost computation (A.3). It returns
// false if no packet has been received yet.
func (s *ReceiverStats) Report(now time.Time) (pionrtcp.ReceptionReport, bool) {
	if !s.started {
		return pionrtcp.ReceptionReport{}, false
	}
	expected := s.Expected()
	expectedInterval := expected - s.expectedPrior
	s.expectedPrior = expected
	receivedInterval := s.received - s.receivedPrior
	s.receivedPrior = s.received
	lostInterval := int64(expectedInterval) - int64(receivedInterval)
	var fraction uint8
	if expectedInterval != 0 && lostInterval > 0 {
		fraction = uint8((lostInterval << 8) / int64(expectedInterval))
	}
	lost := s.CumulativeLost()
	// The field is a 24-bit signed integer: clamp (RFC 3550 A.3).
	if lost > 0x7FFFFF {
		lost = 0x7FFFFF
	} else if lost < -0x800000 {
		lost = -0x800000
	}
	rr := pionrtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xFFFFFF,
		LastSequenceNumber: s.ExtendedHighestSeq(),
		Jitter:             s.Jitter(),
	}
	if !s.lastSRTime.IsZero() {
		rr.LastSenderReport = s.lastSR
		rr.Delay = durationToCompact(now.Sub(s.lastSRTime))
	}
	return rr, true
}

// RoundTripTime computes the round trip from a reception report block that
// arrived at now (RFC 3550 §6.4.1: A - LSR - DLSR). It returns false when
// the block carries no LSR or the result would be negative.
func RoundTripTime(now time.Time, rr pionrtcp.ReceptionReport) (time.Duration, bool) {
	if rr.LastSenderReport == 0 {
		return 0, false
	}
	a := NTPMiddle(NTPTime(now))
	rtt := int64(a) - int64(rr.LastSenderReport) - int64(rr.Delay)
	// Middle-32 arithmetic wraps every 65536 s; fold into int32.
	rtt = int64(int32(rtt))
	if rtt < 0 {
		return 0, false
	}
	return compactToDuration(uint32(rtt)), true
}

// TotalLostSigned decodes the 24-bit signed cumulative-lost field.
func TotalLostSigned(rr pionrtcp.ReceptionReport) int32 {
	v := int32(rr.TotalLost << 8)
	return v >> 8
}
