package fec

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// with %w, and its message names the offending field and value.
var (
	// ErrMalformed is wrapped by errors for bytes that do not parse:
	// truncated headers, unknown schemes, fields out of range.
	ErrMalformed = errors.New("fec: malformed")
	// ErrInconsistent is wrapped when a packet parses but contradicts what
	// the decoder already knows of its group (different k, m or shard
	// length, a source index beyond k, a source longer than the shards).
	ErrInconsistent = errors.New("fec: inconsistent with group")
	// ErrOutOfWindow is wrapped when a group ID lies too far behind or
	// ahead of the newest group the decoder has seen.
	ErrOutOfWindow = errors.New("fec: group outside window")
	// ErrTooLarge is wrapped when a packet exceeds the configured
	// MaxPacketSize.
	ErrTooLarge = errors.New("fec: packet too large")
	// ErrInvalidConfig is wrapped by configuration validation errors.
	ErrInvalidConfig = errors.New("fec: invalid config")
	// ErrTooFewShards is wrapped when a code is asked to reconstruct with
	// fewer than k shards present.
	ErrTooFewShards = errors.New("fec: too few shards")
)
