package congestion

import "time"

// Bandwidth is a rate in bits per second.
type Bandwidth uint64

// Common bandwidth units.
const (
	BitPerSecond  Bandwidth = 1
	KbitPerSecond           = 1000 * BitPerSecond
	MbitPerSecond           = 1000 * KbitPerSecond
)

// BytesPerSecond converts a byte rate into a Bandwidth.
func BytesPerSecond(b float64) Bandwidth { return Bandwidth(b * 8) }

// Bytes returns the number of bytes this bandwidth carries in d.
func (b Bandwidth) Bytes(d time.Duration) int {
	return int(float64(b) / 8 * d.Seconds())
}

// RTTStats is the read side of the owner's RTT estimator (rudp.RTTEstimator in
// a skiff session, the TCP endpoint's own in bench/raw/tcp). A zero
// SmoothedRTT means no sample has been taken yet.
type RTTStats interface {
	SmoothedRTT() time.Duration
	MinRTT() time.Duration
	LatestRTT() time.Duration
}

// Controller decides how many bytes may be in flight and when the next packet
// may leave. It is a pure state machine: every event carries the time it
// happened, it never reads a clock, starts a goroutine or does I/O. It is not
// safe for concurrent use; its owner (a session's run loop) serialises calls.
//
// Packet numbers are the sender's transmission numbers: strictly increasing
// per transmission, a retransmission gets a new number (as in QUIC). Window
// and flight sizes are in bytes.
type Controller interface {
	// OnPacketSent records that a packet of size bytes left at now while
	// bytesInFlight bytes (not counting this packet) were outstanding.
	// Packets that carry only acknowledgements are not reported.
	OnPacketSent(now time.Time, packetNumber uint64, bytes int, bytesInFlight int)

	// OnPacketAcked records that the packet was acknowledged at now;
	// priorInFlight is the flight before the ack removed any bytes.
	OnPacketAcked(now time.Time, packetNumber uint64, bytes int, priorInFlight int)

	// OnDuplicateAck records one duplicate acknowledgement while in fast
	// recovery (RFC 5681 §3.2 step 4: Reno inflates cwnd by one segment).
	// Controllers that do not inflate ignore it.
	OnDuplicateAck(now time.Time)

	// OnCongestionEvent records that the loss detector declared the packet
	// lost. Controllers reduce the window at most once per round trip: a
	// loss of a packet sent before the last reduction does not reduce again.
	OnCongestionEvent(now time.Time, packetNumber uint64, lostBytes int, priorInFlight int)

	// OnRetransmissionTimeout records that the retransmission timer fired.
	OnRetransmissionTimeout(now time.Time)

	// CanSend reports whether the window allows another packet.
	CanSend(bytesInFlight int) bool

	// TimeUntilSend returns the earliest time the next packet may leave
	// under pacing; the zero time means at once.
	TimeUntilSend(bytesInFlight int) time.Time

	// CongestionWindow returns the current congestion window in bytes.
	CongestionWindow() int

	// SlowStartThreshold returns ssthresh in bytes (a very large value while
	// it is not yet set).
	SlowStartThreshold() int

	// PacingRate returns the current pacing rate (0 if not pacing).
	PacingRate() Bandwidth

	// InSlowStart and InRecovery expose the state for tests and tracing.
	InSlowStart() bool
	InRecovery() bool

	// State names the controller's current state for tracing
	// ("slow_start", "congestion_avoidance", "recovery", "startup",
	// "drain", "probe_bw", "probe_rtt", ...).
	State() string
}

// Event is one recorded change of a controller's window or state, delivered
// to a Tracer so the bench tool can plot cwnd and ssthresh over time.
type Event struct {
	Time          time.Time
	State         string
	CWND          int
	SSThresh      int
	BytesInFlight int
	PacingRate    Bandwidth
}

// Tracer receives controller events. It is called on the owner's goroutine
// and must not block.
type Tracer func(Event)
