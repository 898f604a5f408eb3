package skiff

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/rudp"
)

// Recovery selects how a session recovers lost packets.
type Recovery int

// Recovery strategies.
const (
	// RecoveryRTO: sender-driven timed retransmission with fast retransmit
	// and tail-loss probes (the default).
	RecoveryRTO Recovery = iota
	// RecoveryNACK: receiver-driven negative acknowledgements; the sender's
	// timer remains as a last resort.
	RecoveryNACK
	// RecoveryFEC: forward error correction with an ARQ fallback.
	RecoveryFEC
)

// String returns "rto", "nack" or "fec".
func (r Recovery) String() string {
	switch r {
	case RecoveryRTO:
		return "rto"
	case RecoveryNACK:
		return "nack"
	case RecoveryFEC:
		return "fec"
	}
	return fmt.Sprintf("Recovery(%d)", int(r))
}

// Defaults for zero Config fields.
const (
	DefaultMTU               = 1200
	DefaultMaxDatagramSize   = 1452
	DefaultSendBufferSize    = 2 << 20
	DefaultReceiveBufferSize = 2 << 20
	DefaultMaxMessageSize    = 4 << 20
	DefaultKeepAlive         = 5 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultCloseTimeout      = 10 * time.Second
	DefaultAcceptBacklog     = 128
	MinMTU                   = 256
	MaxMTU                   = 65000
)

// StrategyFactory builds a recovery strategy for one session; it lets a
// package outside the root (fec) plug in without the session knowing it.
// It gets a copy of the session's Config whose MTU is the largest datagram
// the session may ever send (MaxDatagramSize with path-MTU discovery), the
// size a strategy must be ready to protect.
type StrategyFactory func(env rudp.Env, cfg *Config) (rudp.Strategy, error)

// fecFactory builds RecoveryFEC strategies: package fec's, unless a
// program installs another with RegisterFEC.
var fecFactory StrategyFactory = func(env rudp.Env, cfg *Config) (rudp.Strategy, error) {
	return fec.NewSessionStrategy(env, cfg.FEC, cfg.MTU, cfg.NackRetries, rudp.DefaultMaxAckDelay)
}

// RegisterFEC replaces the constructor used for RecoveryFEC (by default
// package fec's strategy, configured by Config.FEC). Call it before
// creating sessions; it is not safe to call concurrently with them. A nil
// f makes RecoveryFEC fail with ErrNotImplemented.
func RegisterFEC(f StrategyFactory) { fecFactory = f }

// Config configures sessions and listeners. A nil *Config means all
// defaults; zero fields take the Default* values. Config is read when a
// session or listener is created and not retained by reference; do not
// modify it concurrently with Dial/Listen.
type Config struct {
	// Recovery selects the loss-recovery strategy (default RecoveryRTO).
	Recovery Recovery
	// Congestion names the controller: "bbr" (default), "reno", "cubic",
	// "none" (alias "fixed": no congestion control, a fixed window equal to
	// the flow-control window ReceiveBufferSize, at most 1000 packets, like
	// KCP's nocwnd; unfair to other flows).
	Congestion string
	// CongestionTracer, if set, receives the controller's window events on
	// the session's goroutine; it must not block.
	CongestionTracer congestion.Tracer
	// CongestionSeed seeds the controller's randomness (BBR's PROBE_BW
	// phase; congestion.Config.Seed), making a session's congestion
	// behaviour reproducible, e.g. in tests over an emulated network. Zero
	// (the default) derives a seed from the session's connection ID, which
	// is random, so concurrent sessions do not probe in lockstep. A
	// non-zero value is used as is by every session created with this
	// Config (all sessions a Listener accepts share it).
	CongestionSeed uint64
	// MTU is the datagram size a session starts with, in bytes (default
	// 1200, which any IPv4 or IPv6 path carries): the handshake and the
	// first data go at this size.
	MTU int
	// MaxDatagramSize is the largest datagram path-MTU discovery may raise
	// the size to (default 1452: a 1500-byte Ethernet MTU less IPv6 and
	// UDP headers). Once established, a session probes with padded pings
	// (DPLPMTUD, RFC 8899) between MTU and the smaller of both sides'
	// MaxDatagramSize, and sends larger datagrams once a probe of that size
	// was acknowledged; lost probes are not congestion signals. Larger
	// datagrams mean less header per payload byte (bench P0: 1.069 -> 1.056
	// wire bytes per payload byte) and fewer packets to process. Values
	// below MTU are rejected.
	MaxDatagramSize int
	// DisablePathMTUDiscovery keeps every datagram at MTU and advertises
	// MTU as this side's largest datagram.
	DisablePathMTUDiscovery bool
	// SendBufferSize bounds bytes queued by Write/SendMessage and not yet
	// sent (default 2 MiB).
	SendBufferSize int
	// ReceiveBufferSize is the flow-control window in bytes: reordered
	// plus unread data the receiver holds (default 2 MiB).
	ReceiveBufferSize int
	// MaxMessageSize bounds one message (default 4 MiB).
	MaxMessageSize int
	// KeepAlive is the interval of heartbeats on an idle session (default
	// 5 s; negative disables).
	KeepAlive time.Duration
	// IdleTimeout closes a session that received nothing for this long
	// (default 30 s).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds Dial's handshake and the cookie lifetime
	// (default 10 s).
	HandshakeTimeout time.Duration
	// CloseTimeout bounds how long Close waits without progress for the
	// graceful flush (default 10 s): when no new data was acknowledged for
	// this long, the session is reset and Close returns ErrCloseTimeout.
	CloseTimeout time.Duration
	// AcceptBacklog bounds established sessions waiting for Accept
	// (default 128).
	AcceptBacklog int
	// MinRTO and MaxRTO bound the retransmission timeout (defaults 200 ms
	// and 60 s).
	MinRTO, MaxRTO time.Duration
	// NackRetries bounds how often the receiver NACKs one packet before
	// leaving it to the sender's timer (RecoveryNACK; default 8).
	NackRetries int
	// FEC holds the FEC strategy's options (RecoveryFEC only): a
	// fec.StrategyConfig (nil: its defaults, Reed-Solomon with a NACK
	// fallback).
	FEC any
	// FECRepairIsCongestion makes loss that FEC repaired a congestion
	// signal (RecoveryFEC only). By default it is not: a data packet the
	// receiver rebuilt is acknowledged like one that arrived, so FEC
	// sessions on a randomly lossy but uncongested link keep their window.
	// When set, a data packet acknowledged only after a later packet had
	// been acknowledged without it (a hole the receiver filled without a
	// retransmission: rebuilt by FEC, or reordered) is reported to the
	// congestion controller as a loss event, as ARQ would have.
	FECRepairIsCongestion bool
}

// withDefaults returns a validated copy with defaults filled in.
func (c *Config) withDefaults() (Config, error) {
	var n Config
	if c != nil {
		n = *c
	}
	if n.MTU == 0 {
		n.MTU = DefaultMTU
	}
	if n.MaxDatagramSize == 0 {
		n.MaxDatagramSize = max(DefaultMaxDatagramSize, n.MTU)
	}
	if n.SendBufferSize == 0 {
		n.SendBufferSize = DefaultSendBufferSize
	}
	if n.ReceiveBufferSize == 0 {
		n.ReceiveBufferSize = DefaultReceiveBufferSize
	}
	if n.MaxMessageSize == 0 {
		n.MaxMessageSize = DefaultMaxMessageSize
	}
	if n.KeepAlive == 0 {
		n.KeepAlive = DefaultKeepAlive
	}
	if n.IdleTimeout == 0 {
		n.IdleTimeout = DefaultIdleTimeout
	}
	if n.HandshakeTimeout == 0 {
		n.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if n.CloseTimeout == 0 {
		n.CloseTimeout = DefaultCloseTimeout
	}
	if n.AcceptBacklog == 0 {
		n.AcceptBacklog = DefaultAcceptBacklog
	}
	bad := func(field string, v any, why string) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s %v %s", ErrInvalidConfig, field, v, why)
	}
	switch {
	case n.Recovery < RecoveryRTO || n.Recovery > RecoveryFEC:
		return bad("Recovery", int(n.Recovery), "is not a Recovery constant")
	case n.MTU < MinMTU || n.MTU > MaxMTU:
		return bad("MTU", n.MTU, fmt.Sprintf("out of [%d, %d]", MinMTU, MaxMTU))
	case n.MaxDatagramSize < n.MTU || n.MaxDatagramSize > MaxMTU:
		return bad("MaxDatagramSize", n.MaxDatagramSize, fmt.Sprintf("out of [MTU %d, %d]", n.MTU, MaxMTU))
	case n.SendBufferSize < 0:
		return bad("SendBufferSize", n.SendBufferSize, "is negative")
	case n.ReceiveBufferSize < 4*n.MTU:
		return bad("ReceiveBufferSize", n.ReceiveBufferSize, fmt.Sprintf("below 4 MTU (%d)", 4*n.MTU))
	case n.MaxMessageSize < 0:
		return bad("MaxMessageSize", n.MaxMessageSize, "is negative")
	case n.IdleTimeout < 0:
		return bad("IdleTimeout", n.IdleTimeout, "is negative")
	case n.HandshakeTimeout < 0:
		return bad("HandshakeTimeout", n.HandshakeTimeout, "is negative")
	case n.CloseTimeout < 0:
		return bad("CloseTimeout", n.CloseTimeout, "is negative")
	case n.AcceptBacklog < 0:
		return bad("AcceptBacklog", n.AcceptBacklog, "is negative")
	case n.MinRTO < 0 || n.MaxRTO < 0 || (n.MaxRTO > 0 && n.MinRTO > n.MaxRTO):
		return bad("MinRTO/MaxRTO", fmt.Sprintf("%v/%v", n.MinRTO, n.MaxRTO), "invalid")
	case n.NackRetries < 0:
		return bad("NackRetries", n.NackRetries, "is negative")
	}
	if frags := (n.MaxMessageSize + n.maxPayload(0) - 1) / n.maxPayload(0); frags > 0xFFFF {
		return bad("MaxMessageSize", n.MaxMessageSize, fmt.Sprintf("needs %d fragments at MTU %d (max 65535)", frags, n.MTU))
	}
	// Validation only; a non-zero Seed spares drawing one.
	if _, err := congestion.New(n.Congestion, congestion.Config{MaxDatagramSize: n.MTU, Seed: 1}); err != nil {
		return Config{}, fmt.Errorf("%w: Congestion: %w", ErrInvalidConfig, err)
	}
	if n.Recovery == RecoveryFEC && fecFactory == nil {
		return Config{}, fmt.Errorf("%w: RecoveryFEC (import the fec package to register it)", ErrNotImplemented)
	}
	return n, nil
}

// congestionSeed is the congestion.Config.Seed of the session with
// connection ID connID: CongestionSeed, or when zero the connection ID
// mixed (splitmix64), never zero.
func (c *Config) congestionSeed(connID uint64) uint64 {
	if c.CongestionSeed != 0 {
		return c.CongestionSeed
	}
	z := connID + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return max(z^z>>31, 1)
}

// maxDatagram is the largest datagram this side sends or accepts:
// MaxDatagramSize, or MTU without path-MTU discovery. It sizes buffers and
// is what the handshake advertises.
func (c *Config) maxDatagram() int {
	if c.DisablePathMTUDiscovery {
		return c.MTU
	}
	return max(c.MaxDatagramSize, c.MTU)
}

// maxPayload is the data bytes one packet carries.
func (c *Config) maxPayload(strategyOverhead int) int {
	return c.MTU - rudp.Overhead - rudp.DataFrameHeaderSize - strategyOverhead
}
