package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"5%", 0.05, ""},
		{"0.5%", 0.005, ""},
		{" 10 % ", 0.10, ""},
		{"0.05", 0.05, ""},
		{"0", 0, ""},
		{"100%", 1, ""},
		{"150%", 0, "outside 0%..100%"},
		{"-1%", 0, "outside 0%..100%"},
		{"1.5", 0, "did you mean 1.5%?"},
		{"5", 0, "did you mean 5%?"},
		{"250", 0, "outside 0%..100%"},
		{"five", 0, "is not a percentage"},
		{"%", 0, "is not a percentage"},
		{"NaN", 0, "is not a percentage"},
		{"", 0, "is not a percentage"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parsePercent(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tc.want, got, 1e-12)
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"10mbit", 10_000_000, ""},
		{"10Mbit", 10_000_000, ""},
		{"500kbit", 500_000, ""},
		{"1gbit", 1_000_000_000, ""},
		{"1.5mbit", 1_500_000, ""},
		{"64000bit", 64_000, ""},
		{"64000", 64_000, ""},
		{"2mbps", 16_000_000, ""}, // tc: bps is bytes per second
		{"0", 0, ""},
		{"fast", 0, "is not a rate"},
		{"10 parsecs", 0, "is not a rate"},
		{"mbit", 0, "is not a rate"},
		{"-5mbit", 0, "is negative"},
		{"5000gbit", 0, "above 1 Tbit/s"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRate(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"8MiB", 8 << 20, ""},
		{"64KiB", 64 << 10, ""},
		{"62.5KB", 62_500, ""},
		{"1500", 1500, ""},
		{"1500B", 1500, ""},
		{"1GiB", 1 << 30, ""},
		{"big", 0, "is not a size"},
		{"-1KiB", 0, "is negative"},
		{"2048GiB", 0, "above 1 TiB"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"20ms", 20 * time.Millisecond, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"0", 0, ""},
		{"20", 0, "is not a duration"},
		{"soon", 0, "is not a duration"},
		{"-5ms", 0, "is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDurationFlag(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestImpairmentFlagsProfile(t *testing.T) {
	f := impairmentFlags{loss: 0.05, burst: 3, delay: 20 * time.Millisecond, rate: 10e6, queue: 64 << 10}
	p, err := f.profile()
	require.NoError(t, err)
	require.NotNil(t, p.Burst)
	require.InDelta(t, 0.05, p.Burst.LossRate(), 1e-9)
	require.Zero(t, p.Loss)

	_, err = (&impairmentFlags{burst: 3}).profile()
	require.ErrorContains(t, err, "-burst needs -loss")
	_, err = (&impairmentFlags{queue: 1000}).profile()
	require.ErrorContains(t, err, "-queue needs -rate")
}
