package rtp

import "errors"

// Sentinel errors, wrapped with detail.
var (
	// ErrMalformed: an RTP packet failed validation (version, lengths,
	// padding, CSRC count, extension).
	ErrMalformed = errors.New("rtp: malformed packet")
	// ErrDescriptor: the frame descriptor extension is missing or invalid.
	ErrDescriptor = errors.New("rtp: bad frame descriptor")
	// ErrFrame: a frame handed to the Sender is invalid.
	ErrFrame = errors.New("rtp: invalid frame")
	// ErrQueueFull: the Sender's queue is at SenderConfig.MaxQueueBytes.
	ErrQueueFull = errors.New("rtp: send queue full")
	// ErrClosed: the session is closed.
	ErrClosed = errors.New("rtp: session closed")
	// ErrConfig: a configuration value is invalid.
	ErrConfig = errors.New("rtp: invalid config")
)
