// Package hrtimer is a one-shot timer that fires on time to within tens
// of microseconds, for real-time code whose timing is measured: the
// netem emulator's delivery clock.
//
// The Go runtime's timers are exact while some goroutine runs, but when
// the whole process is idle the runtime sleeps in epoll_wait, whose
// timeout is in whole milliseconds: a timer then fires up to about 1 ms
// late (a 10 ms link delay emulated with time.Timer averaged 10.7 ms on a
// 2-core machine). On Linux this package arms a timerfd (a kernel
// high-resolution timer) and waits for it in the runtime's network
// poller, which wakes as soon as the descriptor is readable, so no
// goroutine spins. Elsewhere it falls back to time.Timer.
//
// A Timer uses the real clock: never use one inside a testing/synctest
// bubble, whose fake clock it would not follow.
package hrtimer
