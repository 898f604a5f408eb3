package flowsim

import "time"

// RTTEstimator is RFC 6298's SRTT/RTTVAR plus the latest and minimum
// samples; it implements congestion.RTTStats. The zero value has no sample.
// Not safe for concurrent use.
type RTTEstimator struct {
	srtt, rttvar, latest, min time.Duration
}

// Update adds one RTT sample (ignored if not positive).
func (e *RTTEstimator) Update(rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	e.latest = rtt
	if e.min == 0 || rtt < e.min {
		e.min = rtt
	}
	if e.srtt == 0 {
		e.srtt, e.rttvar = rtt, rtt/2
		return
	}
	d := e.srtt - rtt
	if d < 0 {
		d = -d
	}
	e.rttvar = (3*e.rttvar + d) / 4
	e.srtt = (7*e.srtt + rtt) / 8
}

// SmoothedRTT returns SRTT (0 before the first sample).
func (e *RTTEstimator) SmoothedRTT() time.Duration { return e.srtt }

// MinRTT returns the smallest sample.
func (e *RTTEstimator) MinRTT() time.Duration { return e.min }

// LatestRTT returns the last sample.
func (e *RTTEstimator) LatestRTT() time.Duration { return e.latest }

// RTO returns SRTT + 4·RTTVAR, at least 200 ms, 1 s before any sample.
func (e *RTTEstimator) RTO() time.Duration {
	if e.srtt == 0 {
		return time.Second
	}
	return max(e.srtt+max(4*e.rttvar, time.Millisecond), 200*time.Millisecond)
}
