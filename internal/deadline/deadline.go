// Package deadline provides the settable read/write deadline that skiff's
// net.Conn and net.PacketConn implementations share (the root Session, the
// netem Conn and the user-space TCP Conn): a point in time whose Wait channel
// is closed when it passes, in the design of net.Pipe's pipeDeadline. It is
// built on time.AfterFunc, so it works inside testing/synctest bubbles.
//
// It imports only the standard library, so every package of the module,
// netem included, may use it.
package deadline

import (
	"sync"
	"time"
)

// Deadline is a settable deadline. The zero value is not usable; create one
// with New. It is safe for concurrent use.
type Deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{} // closed once the deadline has passed
}

// New returns a Deadline that is not armed.
func New() *Deadline { return &Deadline{cancel: make(chan struct{})} }

// Set arms the deadline for t; the zero time disarms it. A time in the past
// closes the Wait channel at once.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired and is closing cancel
	}
	d.timer = nil
	closed := Closed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		ch := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// Wait returns a channel that is closed when the deadline passes. A later
// Set may replace the channel, so callers fetch it afresh for each wait.
func (d *Deadline) Wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

// Stop releases the timer; used when the connection is gone.
func (d *Deadline) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// Closed reports whether c is closed, without blocking.
func Closed[T any](c <-chan T) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
