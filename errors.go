package skiff

import (
	"errors"
	"net"
)

// Sentinel errors. Errors returned by skiff wrap them (errors.Is works).
var (
	// ErrNotImplemented: the configured feature is not available yet.
	ErrNotImplemented = errors.New("skiff: not implemented yet")
	// ErrInvalidConfig is wrapped by every Config validation error.
	ErrInvalidConfig = errors.New("skiff: invalid config")
	// ErrClosed: the session or listener was closed locally. It wraps
	// net.ErrClosed.
	ErrClosed = net.ErrClosed
	// ErrReset: the peer aborted the session.
	ErrReset = errors.New("skiff: session reset by peer")
	// ErrAborted: the session was aborted locally.
	ErrAborted = errors.New("skiff: session aborted")
	// ErrMessageTooLarge: a message exceeds Config.MaxMessageSize.
	ErrMessageTooLarge = errors.New("skiff: message too large")
	// ErrHandshakeTimeout: the handshake did not complete in time.
	ErrHandshakeTimeout = &timeoutError{"skiff: handshake timeout"}
	// ErrIdleTimeout: nothing was received from the peer for the idle
	// timeout (dead peer).
	ErrIdleTimeout = &timeoutError{"skiff: idle timeout: peer is not responding"}
	// ErrDeadlineExceeded is returned by Read, Write, SendMessage and
	// ReceiveMessage when a deadline passes; it is os.ErrDeadlineExceeded's
	// twin: a net.Error whose Timeout() is true.
	ErrDeadlineExceeded = &timeoutError{"skiff: i/o timeout"}
	// ErrPeerClosed: Write after the peer closed the session.
	ErrPeerClosed = errors.New("skiff: peer closed the session")
	// ErrCloseTimeout: a graceful close made no progress for
	// Config.CloseTimeout (the peer stopped reading or vanished); the
	// session was reset.
	ErrCloseTimeout = &timeoutError{"skiff: close: no data acknowledged within the close timeout"}
)

// timeoutError is a net.Error that reports Timeout() == true.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

var _ net.Error = (*timeoutError)(nil)
