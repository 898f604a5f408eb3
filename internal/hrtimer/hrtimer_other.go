//go:build !linux

package hrtimer

import (
	"sync"
	"time"
)

// Timer is a one-shot timer; on this platform a time.Timer.
type Timer struct {
	// C receives a value when the timer fires (see the Linux version).
	C <-chan struct{}

	c    chan struct{}
	t    *time.Timer
	once sync.Once
}

// New returns a stopped Timer.
func New() (*Timer, error) {
	c := make(chan struct{}, 1)
	t := &Timer{C: c, c: c}
	t.t = time.AfterFunc(time.Hour, func() {
		select {
		case t.c <- struct{}{}:
		default:
		}
	})
	t.t.Stop()
	return t, nil
}

// Reset arms the timer to fire once after d.
func (t *Timer) Reset(d time.Duration) { t.t.Reset(max(d, 0)) }

// Stop disarms the timer.
func (t *Timer) Stop() { t.t.Stop() }

// Close stops the timer. It is idempotent.
func (t *Timer) Close() error {
	t.once.Do(func() { t.t.Stop() })
	return nil
}
