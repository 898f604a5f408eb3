package bench

import (
	"math"
	"strconv"
	"time"

	"github.com/skiffnet/skiff/netem"
)

// Workload names.
const (
	WorkloadBulk     = "bulk"
	WorkloadRealtime = "realtime"
)

// Status of one run.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"      // payload missing, corrupted or an error
	StatusTimeout     = "timeout"     // did not finish within the cell timeout
	StatusUnavailable = "unavailable" // the transport cannot run here
)

// Result is one run of one cell (profile × transport × workload × seed).
// Durations are reported in milliseconds and rates in Mbit/s so the JSON reads
// without conversion.
type Result struct {
	Profile   string `json:"profile"`
	Transport string `json:"transport"`
	Workload  string `json:"workload"`
	Seed      int64  `json:"seed"`
	Rep       int    `json:"rep"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	// Verified is true when every payload byte arrived and its SHA-256
	// matched (bulk) or every received message matched its digest
	// (realtime).
	Verified bool    `json:"verified"`
	WallMs   float64 `json:"wall_ms"` // whole cell including setup

	// Bulk.
	PayloadBytes   int64   `json:"payload_bytes,omitempty"`
	DeliveredBytes int64   `json:"delivered_bytes,omitempty"`
	CompletionMs   float64 `json:"completion_ms,omitempty"`
	GoodputMbps    float64 `json:"goodput_mbps,omitempty"`
	// WireBytes are IP-level bytes that entered the data direction's link
	// (lost packets included); WireRatio = WireBytes / PayloadBytes.
	WireBytes uint64  `json:"wire_bytes,omitempty"`
	WireRatio float64 `json:"wire_ratio,omitempty"`

	// Realtime.
	MessagesSent     int `json:"messages_sent,omitempty"`
	MessagesReceived int `json:"messages_received,omitempty"`
	MessagesLost     int `json:"messages_lost,omitempty"`
	// Percentiles count lost messages as infinitely late (+Inf, null in
	// JSON).
	LatencyP50Ms Millis    `json:"latency_p50_ms,omitempty"`
	LatencyP99Ms Millis    `json:"latency_p99_ms,omitempty"`
	LatencyMaxMs Millis    `json:"latency_max_ms,omitempty"`
	LatenciesMs  []float64 `json:"latencies_ms,omitempty"`

	// Video: frames sent and, per kind ("I", "P", "B"), how many were
	// complete by their deadline, late or never complete. The latency
	// fields above then describe frames (capture to complete).
	FramesSent int                        `json:"frames_sent,omitempty"`
	Video      map[string]*VideoKindStats `json:"video,omitempty"`

	// Link statistics of both directions at the end of the run.
	Data   netem.Stats `json:"link_data"`
	Return netem.Stats `json:"link_return"`
}

// OK reports whether the run completed and verified its payload.
func (r *Result) OK() bool { return r.Status == StatusOK && r.Verified }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Millis is a duration in milliseconds that may be +Inf (a message that never
// arrived); it encodes as a JSON number, or null when not finite.
type Millis float64

// MarshalJSON writes null for +Inf and NaN, which JSON cannot carry.
func (m Millis) MarshalJSON() ([]byte, error) {
	f := float64(m)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// UnmarshalJSON reads null as +Inf.
func (m *Millis) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = Millis(math.Inf(1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*m = Millis(f)
	return nil
}
