package deadline

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := New()
		require.False(t, Closed(d.Wait()), "a new deadline is not armed")

		d.Set(time.Now().Add(time.Second))
		require.False(t, Closed(d.Wait()))
		time.Sleep(time.Second)
		synctest.Wait()
		require.True(t, Closed(d.Wait()), "passed deadline closes Wait")

		d.Set(time.Time{})
		require.False(t, Closed(d.Wait()), "zero time disarms and reopens")

		d.Set(time.Now().Add(-time.Second))
		require.True(t, Closed(d.Wait()), "past time closes at once")

		d.Set(time.Now().Add(time.Hour))
		require.False(t, Closed(d.Wait()), "re-arming reopens")
		d.Set(time.Now().Add(2 * time.Hour)) // moving an armed deadline
		time.Sleep(90 * time.Minute)
		synctest.Wait()
		require.False(t, Closed(d.Wait()), "the earlier timer no longer fires")
		d.Stop()
	})
}
