//go:build linux

package hrtimer

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Timer is a one-shot high-resolution timer. Reset, Stop and Close may be
// called from any goroutine, but not concurrently with Close.
type Timer struct {
	// C receives a value when the timer fires. It has room for one, so a
	// stale value may remain after Reset or Stop: treat a receive as a
	// hint to look at the clock, as a timer loop does anyway.
	C <-chan struct{}

	c      chan struct{}
	fd     int      // the timerfd, for timerfd_settime
	f      *os.File // the same descriptor, read through the poller
	exited chan struct{}
	once   sync.Once
}

// New returns a stopped Timer. It starts one goroutine, which Close ends.
func New() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("hrtimer: timerfd_create: %w", err)
	}
	c := make(chan struct{}, 1)
	t := &Timer{C: c, c: c, fd: fd, exited: make(chan struct{})}
	// A non-blocking descriptor handed to os.NewFile is registered with
	// the runtime poller, so Read parks the goroutine instead of a thread.
	// (t.f.Fd() must not be called: it would make the descriptor blocking.)
	t.f = os.NewFile(uintptr(fd), "timerfd")
	go t.wait()
	return t, nil
}

// wait forwards each expiry to C until the descriptor is closed.
func (t *Timer) wait() {
	defer close(t.exited)
	var buf [8]byte // the number of expiries since the last read
	for {
		if _, err := t.f.Read(buf[:]); err != nil {
			return
		}
		select {
		case t.c <- struct{}{}:
		default:
		}
	}
}

// Reset arms the timer to fire once after d (at once when d <= 0),
// replacing any earlier setting.
func (t *Timer) Reset(d time.Duration) {
	t.set(max(d, time.Nanosecond)) // a zero it_value would disarm it
}

// Stop disarms the timer.
func (t *Timer) Stop() { t.set(0) }

func (t *Timer) set(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	// Fails only for a closed descriptor (a use after Close) or bad
	// arguments, which the types above rule out.
	_ = unix.TimerfdSettime(t.fd, 0, &spec, nil)
}

// Close stops the timer, ends its goroutine and releases the descriptor.
// It is idempotent.
func (t *Timer) Close() error {
	t.once.Do(func() {
		t.set(0)
		t.f.Close() // wakes the pending Read with an error
		<-t.exited
	})
	return nil
}
