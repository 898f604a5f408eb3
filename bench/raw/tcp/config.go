package tcp

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// Implementation choices (not protocol constants), applied to zero Config
// fields.
const (
	DefaultBuffer          = 1 << 20 // send and receive buffer, bytes
	DefaultMSL             = 30 * time.Second
	DefaultInitialRTO      = time.Second // RFC 6298 §2.1
	DefaultMinRTO          = 200 * time.Millisecond
	DefaultMaxRTO          = 60 * time.Second
	DefaultDelayedACK      = 40 * time.Millisecond
	DefaultMaxRetries      = 15
	DefaultSYNRetries      = 6
	DefaultFinWait2Timeout = 60 * time.Second
	DefaultKeepAliveIntvl  = 75 * time.Second
	DefaultKeepAliveProbes = 9
	DefaultMSS             = 536 // RFC 9293 §3.7.1 default when the peer sends none
)

// Config parameterises a Stack and every connection on it. The zero value
// is usable: zero fields take the Default* values. A Config is copied by
// NewStack.
type Config struct {
	// MSS is the maximum segment size we advertise and send; zero means
	// the link MTU minus 40.
	MSS int
	// SendBuffer and RecvBuffer bound each connection's buffers in bytes;
	// RecvBuffer is also the largest receive window advertised.
	SendBuffer, RecvBuffer int
	// MSL is the maximum segment lifetime; TIME-WAIT lasts 2·MSL.
	MSL time.Duration
	// InitialRTO, MinRTO and MaxRTO bound the RFC 6298 timer.
	InitialRTO, MinRTO, MaxRTO time.Duration
	// DelayedACK is how long an ACK for a single in-order segment may wait
	// (every second segment is acknowledged at once). Negative disables
	// delayed ACKs.
	DelayedACK time.Duration
	// MaxRetries is how many consecutive retransmission timeouts abort an
	// established connection; SYNRetries the same for the handshake.
	MaxRetries, SYNRetries int
	// FinWait2Timeout bounds FIN-WAIT-2 after the application closed.
	FinWait2Timeout time.Duration
	// KeepAlive is the idle time before the first keepalive probe; zero
	// disables keepalive. KeepAliveInterval and KeepAliveProbes set the
	// probe spacing and how many unanswered probes abort the connection.
	KeepAlive, KeepAliveInterval time.Duration
	KeepAliveProbes              int
	// Congestion names the congestion.New controller ("reno" when empty).
	Congestion string
	// DisableSACK stops offering and accepting SACK-permitted (RFC 2018);
	// loss recovery is then NewReno's (RFC 6582) on cumulative ACKs.
	DisableSACK bool
	// Pacing enables the controller's pacer (off by default, like Linux
	// TCP without the fq qdisc).
	Pacing bool
	// NewController, if set, replaces Congestion: it builds the
	// controller of one connection.
	NewController func(mss int, rtt congestion.RTTStats) (congestion.Controller, error)
	// Tracer receives the congestion controller's events (all connections).
	Tracer congestion.Tracer
	// Seed seeds initial sequence numbers and ephemeral ports; zero picks
	// a random seed.
	Seed int64

	// trace, if set (tests only), sees every segment sent and received.
	trace func(local netip.Addr, out bool, h *Header, payloadLen int)
	// checkScoreboard, if set (tests only), verifies the SACK scoreboard
	// after every segment and panics on drift.
	checkScoreboard bool
}

// withDefaults returns c with zero fields filled in; mtu is the link MTU.
func (c Config) withDefaults(mtu int) (Config, error) {
	if c.MSS == 0 {
		c.MSS = mtu - 40
	}
	if c.MSS < 64 || c.MSS > 65495 {
		return c, fmt.Errorf("tcp: MSS %d out of range [64, 65495] (link MTU %d)", c.MSS, mtu)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	defInt(&c.SendBuffer, DefaultBuffer)
	defInt(&c.RecvBuffer, DefaultBuffer)
	def(&c.MSL, DefaultMSL)
	def(&c.InitialRTO, DefaultInitialRTO)
	def(&c.MinRTO, DefaultMinRTO)
	def(&c.MaxRTO, DefaultMaxRTO)
	def(&c.DelayedACK, DefaultDelayedACK)
	defInt(&c.MaxRetries, DefaultMaxRetries)
	defInt(&c.SYNRetries, DefaultSYNRetries)
	def(&c.FinWait2Timeout, DefaultFinWait2Timeout)
	def(&c.KeepAliveInterval, DefaultKeepAliveIntvl)
	defInt(&c.KeepAliveProbes, DefaultKeepAliveProbes)
	if c.Congestion == "" {
		c.Congestion = "reno"
	}
	if c.SendBuffer < c.MSS || c.RecvBuffer < c.MSS || c.RecvBuffer > 1<<30 {
		return c, fmt.Errorf("tcp: buffers (send %d, recv %d) must be in [MSS %d, 1 GiB]", c.SendBuffer, c.RecvBuffer, c.MSS)
	}
	if c.MSL < 0 || c.MinRTO <= 0 || c.MaxRTO < c.MinRTO || c.InitialRTO <= 0 {
		return c, fmt.Errorf("tcp: bad timers (MSL %v, RTO initial %v min %v max %v)", c.MSL, c.InitialRTO, c.MinRTO, c.MaxRTO)
	}
	return c, nil
}

// newController builds the congestion controller of one connection.
func (c *Config) newController(mss int, rtt congestion.RTTStats) (congestion.Controller, error) {
	if c.NewController != nil {
		return c.NewController(mss, rtt)
	}
	return congestion.New(c.Congestion, congestion.Config{
		MaxDatagramSize: mss,
		RTT:             rtt,
		Tracer:          c.Tracer,
		DisablePacing:   !c.Pacing,
	})
}

// windowShift returns the smallest window-scale shift that lets buf be
// advertised in 16 bits (RFC 7323 §2.2).
func windowShift(buf int) uint8 {
	var s uint8
	for buf>>s > 65535 && s < MaxWindowScale {
		s++
	}
	return s
}
