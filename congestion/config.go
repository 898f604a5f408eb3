package congestion

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults applied by the constructors to zero Config fields.
const (
	// DefaultMaxDatagramSize is the segment size (SMSS) in bytes.
	DefaultMaxDatagramSize = 1200
	// DefaultInitialWindowPackets is the RFC 6928 initial window.
	DefaultInitialWindowPackets = 10
	// DefaultMinWindowPackets is the smallest window after a reduction
	// (RFC 5681: 2 segments); an RTO may still drop cwnd to one segment.
	DefaultMinWindowPackets = 2
	// DefaultMaxWindowBytes bounds cwnd growth (64 MiB).
	DefaultMaxWindowBytes = 64 << 20
	// DefaultPacingBurstPackets is the burst the pacer lets out at once.
	DefaultPacingBurstPackets = 10
)

// ErrInvalidConfig is wrapped by every Config validation error.
var ErrInvalidConfig = errors.New("congestion: invalid config")

// ErrUnknownController is wrapped by New when the name is not known.
var ErrUnknownController = errors.New("congestion: unknown controller")

// Config parameterises every controller. The zero value is usable: zero
// fields take the Default* values. A Config is a plain value; it is copied
// by the constructors.
type Config struct {
	// MaxDatagramSize is the segment size (SMSS) in bytes used for window
	// arithmetic. Zero means DefaultMaxDatagramSize.
	MaxDatagramSize int
	// InitialWindowPackets is the initial window in segments (RFC 6928).
	// Zero means DefaultInitialWindowPackets.
	InitialWindowPackets int
	// MinWindowPackets is the floor of cwnd after a loss reduction. Zero
	// means DefaultMinWindowPackets (BBR never goes below 4).
	MinWindowPackets int
	// MaxWindowBytes caps cwnd. Zero means DefaultMaxWindowBytes.
	MaxWindowBytes int
	// RTT is the owner's RTT estimator, used for pacing (cwnd/SRTT) and by
	// CUBIC. Nil disables pacing for Reno and CUBIC (they then send
	// whenever the window allows). BBR measures RTT itself.
	RTT RTTStats
	// Tracer, if non-nil, receives an Event on every change of cwnd,
	// ssthresh or state.
	Tracer Tracer
	// PacingBurstPackets is how many segments the pacer may send back to
	// back (after idle, or to avoid a wake-up per packet). Zero means
	// DefaultPacingBurstPackets.
	PacingBurstPackets int
	// DisablePacing makes TimeUntilSend always return the zero time.
	DisablePacing bool
	// Seed seeds the controller's randomness (BBR's choice of the
	// PROBE_BW phase it starts cycling from; the other controllers have
	// none). A controller's behaviour depends only on its Config and the
	// events it is given, never on other controllers: the same non-zero
	// Seed reproduces a run. Zero means a fresh seed from math/rand/v2 per
	// controller (not reproducible); owners of many flows should pass
	// distinct seeds so that flows do not probe in lockstep.
	Seed uint64
}

// Validate reports the first invalid field, naming it and its value.
// Zero values are valid (they select defaults).
func (c Config) Validate() error {
	check := func(name string, v, max int) error {
		if v < 0 || v > max {
			return fmt.Errorf("%w: %s %d out of range [0, %d]", ErrInvalidConfig, name, v, max)
		}
		return nil
	}
	if err := check("MaxDatagramSize", c.MaxDatagramSize, 65535); err != nil {
		return err
	}
	if c.MaxDatagramSize != 0 && c.MaxDatagramSize < 64 {
		return fmt.Errorf("%w: MaxDatagramSize %d below 64", ErrInvalidConfig, c.MaxDatagramSize)
	}
	if err := check("InitialWindowPackets", c.InitialWindowPackets, 1000); err != nil {
		return err
	}
	if err := check("MinWindowPackets", c.MinWindowPackets, 1000); err != nil {
		return err
	}
	if err := check("MaxWindowBytes", c.MaxWindowBytes, 1<<30); err != nil {
		return err
	}
	if err := check("PacingBurstPackets", c.PacingBurstPackets, 1000); err != nil {
		return err
	}
	n := c.withDefaults()
	if iw := n.InitialWindowPackets * n.MaxDatagramSize; c.MaxWindowBytes != 0 && c.MaxWindowBytes < iw {
		return fmt.Errorf("%w: MaxWindowBytes %d below the initial window %d", ErrInvalidConfig, c.MaxWindowBytes, iw)
	}
	return nil
}

// withDefaults fills zero (and out-of-range) fields so constructors never
// fail and never divide by zero.
func (c Config) withDefaults() Config {
	if c.MaxDatagramSize < 64 || c.MaxDatagramSize > 65535 {
		c.MaxDatagramSize = DefaultMaxDatagramSize
	}
	if c.InitialWindowPackets <= 0 || c.InitialWindowPackets > 1000 {
		c.InitialWindowPackets = DefaultInitialWindowPackets
	}
	if c.MinWindowPackets <= 0 || c.MinWindowPackets > 1000 {
		c.MinWindowPackets = DefaultMinWindowPackets
	}
	if c.MaxWindowBytes <= 0 || c.MaxWindowBytes > 1<<30 {
		c.MaxWindowBytes = DefaultMaxWindowBytes
	}
	if c.MaxWindowBytes < c.InitialWindowPackets*c.MaxDatagramSize {
		c.MaxWindowBytes = c.InitialWindowPackets * c.MaxDatagramSize
	}
	if c.PacingBurstPackets <= 0 || c.PacingBurstPackets > 1000 {
		c.PacingBurstPackets = DefaultPacingBurstPackets
	}
	return c
}

// New returns the controller called name: "reno" or "newreno", "cubic",
// "bbr" (skiff's default), "none" or "fixed" (a fixed window of
// InitialWindowPackets segments, see Fixed). An empty name means "bbr".
func New(name string, cfg Config) (Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch strings.ToLower(name) {
	case "", "bbr":
		return NewBBR(cfg), nil
	case "reno", "newreno":
		return NewNewReno(cfg), nil
	case "cubic":
		return NewCubic(cfg), nil
	case "none", "fixed":
		c := cfg.withDefaults()
		f := NewFixed(c.InitialWindowPackets * c.MaxDatagramSize)
		f.tracer = c.Tracer
		return f, nil
	}
	return nil, fmt.Errorf("%w: %q (want reno, newreno, cubic, bbr, none or fixed)", ErrUnknownController, name)
}

// tracePoint remembers what was last reported so a controller emits an
// Event only when cwnd, ssthresh or state changed.
type tracePoint struct {
	tracer   Tracer
	cwnd     int
	ssthresh int
	state    string
}

// emit reports the current values if they differ from the last ones.
func (t *tracePoint) emit(now time.Time, cwnd, ssthresh, flight int, state string, rate Bandwidth) {
	if t.tracer == nil || (cwnd == t.cwnd && ssthresh == t.ssthresh && state == t.state) {
		return
	}
	t.cwnd, t.ssthresh, t.state = cwnd, ssthresh, state
	t.tracer(Event{Time: now, State: state, CWND: cwnd, SSThresh: ssthresh, BytesInFlight: flight, PacingRate: rate})
}

// infiniteSSThresh is ssthresh before the first loss.
const infiniteSSThresh = 1<<31 - 1
