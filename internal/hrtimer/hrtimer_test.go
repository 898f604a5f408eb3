package hrtimer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTimer(t *testing.T) *Timer {
	t.Helper()
	tm, err := New()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tm.Close()) })
	return tm
}

// The bounds are generous: a loaded CI machine may run the receiving
// goroutine late. BenchmarkLateness measures how late.
func TestTimerFiresAfterItsDelay(t *testing.T) {
	tm := newTimer(t)
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 3 * time.Millisecond} {
		start := time.Now()
		tm.Reset(d)
		select {
		case <-tm.C:
		case <-time.After(5 * time.Second):
			t.Fatalf("Reset(%v): no expiry within 5 s", d)
		}
		require.GreaterOrEqual(t, time.Since(start), d, "Reset(%v) fired early", d)
	}
}

func TestTimerResetReplacesAndStopDisarms(t *testing.T) {
	tm := newTimer(t)
	tm.Reset(time.Hour)
	tm.Reset(time.Millisecond) // replaces the hour
	select {
	case <-tm.C:
	case <-time.After(5 * time.Second):
		t.Fatal("the replacing Reset did not fire")
	}
	tm.Reset(20 * time.Millisecond)
	tm.Stop()
	select {
	case <-tm.C:
		t.Fatal("a stopped timer fired")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestTimerCloseIsIdempotent(t *testing.T) {
	tm, err := New()
	require.NoError(t, err)
	tm.Reset(time.Millisecond)
	require.NoError(t, tm.Close())
	require.NoError(t, tm.Close()) // goleak (TestMain) checks the goroutine ended
}

// BenchmarkLateness reports how late each kind of timer fires after a
// 2.5 ms wait with the process otherwise idle (late-µs/op), the case where
// the Go runtime sleeps in epoll_wait with a millisecond timeout. On the
// 2-core development machine: hrtimer 150-250 µs (two goroutine wake-ups),
// time.Timer about 800 µs.
func BenchmarkLateness(b *testing.B) {
	b.Run("hrtimer", func(b *testing.B) {
		tm, err := New()
		require.NoError(b, err)
		defer tm.Close()
		measureLateness(b, tm.Reset, func() { <-tm.C })
	})
	b.Run("time.Timer", func(b *testing.B) {
		tm := time.NewTimer(time.Hour)
		defer tm.Stop()
		measureLateness(b, func(d time.Duration) { tm.Reset(d) }, func() { <-tm.C })
	})
}

// measureLateness arms a timer for 2.5 ms with reset, waits with wait and
// reports the mean delay past the 2.5 ms.
func measureLateness(b *testing.B, reset func(time.Duration), wait func()) {
	const d = 2500 * time.Microsecond
	var late time.Duration
	for b.Loop() {
		start := time.Now()
		reset(d)
		wait()
		late += time.Since(start) - d
	}
	b.ReportMetric(float64(late.Microseconds())/float64(b.N), "late-µs/op")
}
