package netem

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxDelay bounds Delay, Jitter and Slot, keeping the time arithmetic far
// from overflow.
const MaxDelay = 24 * time.Hour

// ErrInvalidProfile is wrapped by every error [Profile.Validate] returns.
var ErrInvalidProfile = errors.New("netem: invalid profile")

// Distribution selects the shape of [Profile.Jitter].
type Distribution int

const (
	// JitterUniform draws the jitter uniformly from [-Jitter, +Jitter]. It is
	// the zero value.
	JitterUniform Distribution = iota
	// JitterNormal draws the jitter from a normal distribution with standard
	// deviation Jitter.
	JitterNormal
)

// String returns "uniform" or "normal".
func (d Distribution) String() string {
	switch d {
	case JitterUniform:
		return "uniform"
	case JitterNormal:
		return "normal"
	}
	return fmt.Sprintf("Distribution(%d)", int(d))
}

// Profile describes one direction of an impaired link. The zero value is a
// perfect link: no delay, no loss, unlimited bandwidth. A Profile is a plain
// value; copy it freely. Pipes copy it when it is set.
type Profile struct {
	// Delay is the fixed one-way propagation delay.
	Delay time.Duration
	// Jitter varies the delay: with JitterUniform it is the half-width
	// (±Jitter), with JitterNormal the standard deviation. The total delay is
	// never below zero.
	Jitter time.Duration
	// JitterDist is the jitter's distribution.
	JitterDist Distribution
	// AllowReorder lets jitter reorder packets. When false, a packet's release
	// time is max(its computed time, the previous packet's release time), so a
	// packet never overtakes an earlier one.
	AllowReorder bool
	// Loss is the Bernoulli loss probability in [0,1].
	Loss float64
	// Burst adds Gilbert-Elliott bursty loss; nil means none.
	Burst *GilbertElliott
	// Duplicate is the probability in [0,1] that a packet is delivered twice.
	Duplicate float64
	// Corrupt is the probability in [0,1] that one random bit of the packet is
	// flipped.
	Corrupt float64
	// Bandwidth is the bottleneck rate in bits/s; 0 means unlimited. A packet
	// takes size*8/Bandwidth to serialise.
	Bandwidth int64
	// QueueBytes limits the drop-tail queue in front of the bottleneck (the
	// bytes waiting to be serialised, not counting the packet being
	// serialised); 0 means unlimited. Needs Bandwidth or Trace.
	QueueBytes int
	// MTU drops packets larger than MTU bytes; 0 means no limit.
	MTU int
	// Down drops every packet offered; switching to a Down profile also
	// drops the bottleneck's waiting queue (packets past it still arrive).
	Down bool
	// Trace, when set, replaces Bandwidth with trace-driven delivery
	// opportunities (mahimahi style).
	Trace *Trace
	// Slot, when positive, releases packets only at multiples of Slot (counted
	// from the pipe's creation), in bursts as on Wi-Fi or LTE.
	Slot time.Duration
}

func invalid(field string, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidProfile, field, fmt.Sprintf(format, args...))
}

func checkProb(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return invalid(field, "must be a probability in [0,1] (got %v)", v)
	}
	return nil
}

// Validate reports the first invalid field; the error names it and its value
// and wraps [ErrInvalidProfile].
func (p Profile) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Delay", p.Delay}, {"Jitter", p.Jitter}, {"Slot", p.Slot}} {
		if d.v < 0 {
			return invalid(d.name, "must not be negative (got %v)", d.v)
		}
		if d.v > MaxDelay {
			return invalid(d.name, "must be at most %v (got %v)", MaxDelay, d.v)
		}
	}
	if p.JitterDist != JitterUniform && p.JitterDist != JitterNormal {
		return invalid("JitterDist", "is unknown (got %d)", int(p.JitterDist))
	}
	if err := checkProb("Loss", p.Loss); err != nil {
		return err
	}
	if p.Burst != nil {
		if err := p.Burst.Validate(); err != nil {
			return err
		}
	}
	if err := checkProb("Duplicate", p.Duplicate); err != nil {
		return err
	}
	if err := checkProb("Corrupt", p.Corrupt); err != nil {
		return err
	}
	if p.Bandwidth < 0 {
		return invalid("Bandwidth", "must not be negative (got %d bit/s)", p.Bandwidth)
	}
	if p.QueueBytes < 0 {
		return invalid("QueueBytes", "must not be negative (got %d)", p.QueueBytes)
	}
	if p.QueueBytes > 0 && p.Bandwidth == 0 && p.Trace == nil {
		return invalid("QueueBytes", "needs a Bandwidth or a Trace (got %d bytes with zero bandwidth)", p.QueueBytes)
	}
	if p.MTU < 0 {
		return invalid("MTU", "must not be negative (got %d)", p.MTU)
	}
	if p.Trace != nil {
		if err := p.Trace.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// hasBottleneck reports whether packets pass a serialising bottleneck.
func (p *Profile) hasBottleneck() bool { return p.Bandwidth > 0 || p.Trace != nil }
