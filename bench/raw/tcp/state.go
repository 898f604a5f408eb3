package tcp

import (
	"errors"
	"fmt"
	"net"
)

// State is a connection state of RFC 9293 §3.3.2.
type State uint8

// The connection states. The zero value is StateClosed.
const (
	StateClosed State = iota
	StateListen
	StateSynSent
	StateSynReceived
	StateEstablished
	StateFinWait1
	StateFinWait2
	StateCloseWait
	StateClosing
	StateLastAck
	StateTimeWait
)

var stateNames = [...]string{
	StateClosed:      "CLOSED",
	StateListen:      "LISTEN",
	StateSynSent:     "SYN-SENT",
	StateSynReceived: "SYN-RECEIVED",
	StateEstablished: "ESTABLISHED",
	StateFinWait1:    "FIN-WAIT-1",
	StateFinWait2:    "FIN-WAIT-2",
	StateCloseWait:   "CLOSE-WAIT",
	StateClosing:     "CLOSING",
	StateLastAck:     "LAST-ACK",
	StateTimeWait:    "TIME-WAIT",
}

// String returns the RFC name of the state, e.g. "FIN-WAIT-1".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// synchronized reports whether the state is past the handshake (RFC 9293
// §3.5.3: ESTABLISHED and later).
func (s State) synchronized() bool { return s >= StateEstablished }

// canSendData reports whether the application's data may still be sent.
func (s State) canSendData() bool {
	switch s {
	case StateEstablished, StateCloseWait, StateFinWait1, StateClosing, StateLastAck:
		return true
	}
	return false
}

// canReceiveData reports whether arriving text is delivered (RFC 9293
// §3.10.7.4, seventh step).
func (s State) canReceiveData() bool {
	return s == StateEstablished || s == StateFinWait1 || s == StateFinWait2
}

// Connection errors, returned by Conn methods and Dial.
var (
	ErrConnectionReset   = errors.New("tcp: connection reset by peer")
	ErrConnectionRefused = errors.New("tcp: connection refused")
	ErrTimeout           = errors.New("tcp: connection timed out")
	ErrAborted           = errors.New("tcp: connection aborted")
)

// ErrClosed is returned by Conn and Listener methods after Close; it wraps
// net.ErrClosed.
var ErrClosed = fmt.Errorf("tcp: %w", net.ErrClosed)
