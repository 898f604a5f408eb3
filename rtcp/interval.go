package rtcp

import (
	"math"
	"math/rand"
	"time"
)

// RFC 3550 §6.2/§6.3 and A.7 constants.
const (
	// RTCPBandwidthFraction is the share of the session bandwidth RTCP may use.
	RTCPBandwidthFraction = 0.05
	// MinInterval is the RFC 3550 minimum report interval.
	MinInterval = 5 * time.Second
	// senderBandwidthFraction/receiverBandwidthFraction split the RTCP
	// bandwidth when senders are at most a quarter of the members.
	senderBandwidthFraction   = 0.25
	receiverBandwidthFraction = 1 - senderBandwidthFraction
	// compensation corrects for the timer reconsideration algorithm
	// converging to a value below the intended average (e - 3/2).
	compensation = math.E - 1.5
)

// IntervalParams are the inputs to the RFC 3550 report interval. The zero
// value gives the 5 s minimum with randomisation.
type IntervalParams struct {
	Members int  // session members including us (≥ 1)
	Senders int  // members that sent RTP since our last report
	WeSent  bool // we sent RTP in the current interval
	// SessionBandwidth is the session bandwidth in bits/s; RTCP gets
	// RTCPBandwidthFraction of it.
	SessionBandwidth float64
	// AvgRTCPSize is the running average compound RTCP size in bytes,
	// including UDP/IP overhead (see UpdateAvgRTCPSize).
	AvgRTCPSize float64
	// Initial halves the minimum for the first report (§6.2).
	Initial bool
	// ReducedMinimum uses 360/(session bandwidth in kbit/s) seconds instead of
	// 5 s as the minimum (§6.2), for high-rate sessions.
	ReducedMinimum bool
}

// DeterministicInterval returns the interval before randomisation, Td in
// RFC 3550 §6.3.1 (with the minimum applied).
func DeterministicInterval(p IntervalParams) time.Duration {
	minTime := MinInterval.Seconds()
	if p.ReducedMinimum && p.SessionBandwidth > 0 {
		minTime = 360 / (p.SessionBandwidth / 1000)
	}
	if p.Initial {
		minTime /= 2
	}
	members := max(p.Members, 1)
	n := float64(members)
	rtcpBW := p.SessionBandwidth * RTCPBandwidthFraction / 8 // bytes/s
	if p.Senders > 0 && float64(p.Senders) <= float64(members)*senderBandwidthFraction {
		if p.WeSent {
			rtcpBW *= senderBandwidthFraction
			n = float64(p.Senders)
		} else {
			rtcpBW *= receiverBandwidthFraction
			n -= float64(p.Senders)
		}
	}
	t := minTime
	if rtcpBW > 0 {
		t = max(p.AvgRTCPSize*n/rtcpBW, minTime)
	}
	return time.Duration(t * float64(time.Second))
}

// TransmissionInterval returns the randomised RFC 3550 report interval: Td
// times a uniform factor in [0.5, 1.5], divided by e-3/2 (A.7 rtcp_interval).
// rng supplies the randomness so runs are reproducible; nil uses 1.0.
func TransmissionInterval(p IntervalParams, rng *rand.Rand) time.Duration {
	factor := 1.0
	if rng != nil {
		factor = rng.Float64() + 0.5
	}
	td := DeterministicInterval(p).Seconds()
	return time.Duration(td * factor / compensation * float64(time.Second))
}

// UpdateAvgRTCPSize folds a sent or received compound packet of size bytes
// into the running average (RFC 3550 §6.3.3: avg = size/16 + 15/16 avg).
func UpdateAvgRTCPSize(avg float64, size int) float64 {
	if avg == 0 {
		return float64(size)
	}
	return float64(size)/16 + avg*15/16
}
