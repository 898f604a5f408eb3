package netem

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProfileValidateRejectsBadFields(t *testing.T) {
	badGE := GilbertElliott{PGoodToBad: 1.5}
	stuck := GilbertElliott{PGoodToBad: 0.1}
	cases := []struct {
		name  string
		p     Profile
		field string
	}{
		{"negative_delay", Profile{Delay: -time.Millisecond}, "Delay"},
		{"negative_jitter", Profile{Jitter: -1}, "Jitter"},
		{"unknown_distribution", Profile{JitterDist: 7}, "JitterDist"},
		{"loss_above_one", Profile{Loss: 1.01}, "Loss"},
		{"loss_negative", Profile{Loss: -0.1}, "Loss"},
		{"loss_nan", Profile{Loss: math.NaN()}, "Loss"},
		{"duplicate_above_one", Profile{Duplicate: 2}, "Duplicate"},
		{"corrupt_negative", Profile{Corrupt: -1}, "Corrupt"},
		{"negative_bandwidth", Profile{Bandwidth: -5}, "Bandwidth"},
		{"queue_without_bandwidth", Profile{QueueBytes: 1000}, "QueueBytes"},
		{"negative_queue", Profile{Bandwidth: 1e6, QueueBytes: -1}, "QueueBytes"},
		{"negative_mtu", Profile{MTU: -1}, "MTU"},
		{"ge_probability_above_one", Profile{Burst: &badGE}, "Burst.PGoodToBad"},
		{"ge_bad_state_never_ends", Profile{Burst: &stuck}, "Burst.PBadToGood"},
		{"negative_slot", Profile{Slot: -time.Millisecond}, "Slot"},
		{"delay_above_max", Profile{Delay: MaxDelay + 1}, "Delay"},
		{"trace_period_above_max", Profile{Trace: &Trace{Opportunities: []time.Duration{1}, Period: MaxTracePeriod + 1}}, "Trace.Period"},
		{"empty_trace", Profile{Trace: &Trace{}}, "Trace.Opportunities"},
		{"unsorted_trace", Profile{Trace: &Trace{Opportunities: []time.Duration{5, 3}}}, "Trace.Opportunities"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			require.ErrorIs(t, err, ErrInvalidProfile)
			require.Contains(t, err.Error(), tc.field)
			_, err = NewPipe(tc.p, 1, func([]byte) {})
			require.ErrorIs(t, err, ErrInvalidProfile)
		})
	}
}

func TestProfileValidateAcceptsGoodProfiles(t *testing.T) {
	ge, err := GilbertElliottFromLoss(0.05, 3)
	require.NoError(t, err)
	for _, p := range []Profile{
		{},
		{Delay: 50 * time.Millisecond, Jitter: 5 * time.Millisecond, JitterDist: JitterNormal, Loss: 1, Burst: &ge,
			Duplicate: 0.5, Corrupt: 0.1, Bandwidth: 1e6, QueueBytes: 10000, MTU: 1500, Slot: time.Millisecond},
		{Trace: &Trace{Opportunities: []time.Duration{time.Millisecond}}, QueueBytes: 3000},
	} {
		require.NoError(t, p.Validate())
	}
}

func TestGilbertElliottFromLoss(t *testing.T) {
	ge, err := GilbertElliottFromLoss(0.1, 4)
	require.NoError(t, err)
	require.InDelta(t, 0.25, ge.PBadToGood, 1e-12)
	require.InDelta(t, 0.1, ge.LossRate(), 1e-12)

	for _, tc := range []struct {
		name       string
		loss, mean float64
		field      string
	}{
		{"burst_below_one", 0.1, 0.5, "meanBurst"},
		{"loss_one", 1, 2, "lossRate"},
		{"loss_negative", -0.1, 2, "lossRate"},
		{"burst_too_short_for_loss", 0.9, 1, "meanBurst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GilbertElliottFromLoss(tc.loss, tc.mean)
			require.ErrorIs(t, err, ErrInvalidProfile)
			require.Contains(t, err.Error(), tc.field)
		})
	}
}
