package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRTTEstimator(t *testing.T) {
	ms := time.Millisecond
	t.Run("initial_rto_is_one_second", func(t *testing.T) {
		var r RTTEstimator
		require.Equal(t, 999*ms, r.RTO())
		require.False(t, r.HasSample())
	})
	t.Run("first_sample_rfc6298_2_2", func(t *testing.T) {
		var r RTTEstimator
		r.Update(100*ms, 0)
		require.Equal(t, 100*ms, r.SmoothedRTT())
		require.Equal(t, 50*ms, r.RTTVar())
		require.Equal(t, 300*ms, r.RTO())
	})
	t.Run("subsequent_samples_rfc6298_2_3", func(t *testing.T) {
		var r RTTEstimator
		r.Update(100*ms, 0)
		r.Update(200*ms, 0)
		// rttvar = 3/4·50 + 1/4·100 = 62.5; srtt = 7/8·100 + 1/8·200 = 112.5
		require.Equal(t, 62500*time.Microsecond, r.RTTVar())
		require.Equal(t, 112500*time.Microsecond, r.SmoothedRTT())
		require.Equal(t, 100*ms, r.MinRTT())
		require.Equal(t, 200*ms, r.LatestRTT())
	})
	t.Run("min_rto_floor", func(t *testing.T) {
		var r RTTEstimator
		for i := 0; i < 50; i++ {
			r.Update(10*ms, 0)
		}
		require.Equal(t, DefaultMinRTO, r.RTO())
		r.MinRTO = 20 * ms
		require.Equal(t, 20*ms, r.RTO())
	})
	t.Run("max_rto_cap_and_backoff", func(t *testing.T) {
		r := RTTEstimator{MaxRTO: 5 * time.Second}
		r.Update(time.Second, 0)
		require.Equal(t, 3*time.Second, r.RTO())
		require.Equal(t, 5*time.Second, r.BackedOff(1))
		require.Equal(t, 5*time.Second, r.BackedOff(40))
	})
	t.Run("ack_delay_subtracted_unless_below_min", func(t *testing.T) {
		var r RTTEstimator
		r.Update(50*ms, 0)
		r.Update(80*ms, 20*ms)
		require.Equal(t, 60*ms, r.LatestRTT())
		r.Update(55*ms, 20*ms) // 35 < min 50: delay not subtracted
		require.Equal(t, 55*ms, r.LatestRTT())
	})
	t.Run("non_positive_ignored", func(t *testing.T) {
		var r RTTEstimator
		r.Update(0, 0)
		r.Update(-ms, 0)
		require.False(t, r.HasSample())
	})
}
