package rtp

import "time"

// Kind is a video frame type. The zero value KindOther means the frame's
// importance is given by Frame.Priority alone.
type Kind uint8

// Frame kinds.
const (
	KindOther Kind = iota
	KindI          // intra (key) frame: never dropped
	KindP          // predicted frame
	KindB          // bi-predicted / non-reference frame: dropped first
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindI:
		return "I"
	case KindP:
		return "P"
	case KindB:
		return "B"
	default:
		return "other"
	}
}

// Priorities of the frame kinds. Higher is more important. A frame with
// priority ≥ PriorityI is never dropped by the sender.
const (
	PriorityB uint8 = 64
	PriorityP uint8 = 128
	PriorityI uint8 = 255
)

// FrameID numbers frames in the order the application hands them to the
// Sender, starting at 1. 0 means "no frame".
type FrameID uint64

// Frame is one encoded media frame handed to the Sender. The zero value is a
// KindOther frame of priority 0 with no payload (rejected).
type Frame struct {
	Kind Kind
	// Priority is used when Kind is KindOther (0..255, higher = more
	// important); for I, P and B it is ignored.
	Priority uint8
	// Timestamp is the frame's media time from the start of the stream; it
	// becomes the RTP timestamp (at the clock rate) and drives playout.
	Timestamp time.Duration
	// Deadline is when the frame must have arrived at the receiver to be of
	// use; zero means SenderConfig.MaxDelay after it is queued (or none).
	Deadline time.Time
	// Payload is the encoded frame; the Sender keeps a reference until the
	// frame is packetised, so the caller must not modify it.
	Payload []byte
	// DependsOn is the frame this one references (0 = none, e.g. an I
	// frame). If that frame is dropped this one is dropped too.
	DependsOn FrameID
}

// EffectivePriority returns the priority the sender uses for f.
func (f *Frame) EffectivePriority() uint8 {
	switch f.Kind {
	case KindI:
		return PriorityI
	case KindP:
		return PriorityP
	case KindB:
		return PriorityB
	default:
		return f.Priority
	}
}

// DeliveredFrame is a frame the Receiver hands to the application.
type DeliveredFrame struct {
	ID        uint64 // wire frame number (sender's transmission order)
	Kind      Kind
	Priority  uint8
	Timestamp time.Duration // media time from the stream's first frame
	Payload   []byte        // owned by the caller
	// CompletedAt is when the last missing packet arrived; PlayoutAt when
	// the frame was (or is due to be) emitted.
	CompletedAt time.Time
	PlayoutAt   time.Time
}
