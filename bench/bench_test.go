package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff"
	"github.com/stretchr/testify/require"
)

// TestReducedMatrix runs a small, fast form of the default matrix (two
// profiles, every transport family, both workloads, small sizes) and
// requires every available cell to complete and verify its payload.
func TestReducedMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs emulated transfers for ~20 s")
	}
	o, err := DefaultOptions()
	require.NoError(t, err)
	o.Profiles, err = SelectProfiles("P0,P2")
	require.NoError(t, err)
	o.Transports, err = SelectTransports("skiff,tcp-userspace,kcp-turbo,rtp-media,udp-floor")
	require.NoError(t, err)
	o.BulkBytes = 256 << 10
	o.RealtimeMessages = 40
	o.VideoFrames = 45
	o.RealtimeDrain = 3 * time.Second
	o.CellTimeout = 30 * time.Second
	o.TraceProfile = "P2"

	rep, err := Run(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, rep.Results, len(o.Profiles)*len(o.Transports)*3)
	ran := 0
	for _, r := range rep.Results {
		if r.Transport == "udp-floor" || (r.Transport == "rtp-media" && r.Workload == WorkloadVideo) {
			// Unreliable by design: they must run and verify what arrives,
			// but may lose messages or frames.
			if r.Status != StatusUnavailable {
				require.Truef(t, r.OK(), "%s %s %s: %s %s", r.Workload, r.Profile, r.Transport, r.Status, r.Error)
			}
			continue
		}
		if r.Status == StatusUnavailable {
			t.Logf("%s %s %s: %s", r.Workload, r.Profile, r.Transport, r.Error)
			continue
		}
		ran++
		require.Truef(t, r.OK(), "%s %s %s: %s %s", r.Workload, r.Profile, r.Transport, r.Status, r.Error)
		switch r.Workload {
		case WorkloadBulk:
			require.Equal(t, int64(o.BulkBytes), r.DeliveredBytes)
			require.Greater(t, r.GoodputMbps, 0.0)
			// Lower bound: every payload byte crossed the link at least once.
			require.GreaterOrEqual(t, r.WireRatio, 1.0, "%s %s", r.Profile, r.Transport)
		case WorkloadRealtime:
			require.Equal(t, o.RealtimeMessages, r.MessagesSent)
			require.Zero(t, r.MessagesLost, "%s %s: reliable messages lost", r.Profile, r.Transport)
			// One-way delay is 10 ms: no message can arrive sooner.
			require.GreaterOrEqual(t, float64(r.LatencyP50Ms), 9.0, "%s %s", r.Profile, r.Transport)
		case WorkloadVideo:
			require.Equal(t, o.VideoFrames, r.FramesSent)
			require.Zero(t, r.MessagesLost, "%s %s: reliable frames lost", r.Profile, r.Transport)
			require.Equal(t, 2, r.Video["I"].Sent) // frames 0 and 30 of 45
		}
	}
	require.Greater(t, ran, 0, "no transport was available")

	dir := t.TempDir()
	paths, err := WriteFiles(dir, rep)
	require.NoError(t, err)
	require.Contains(t, paths, filepath.Join(dir, "results.json"))
	require.Contains(t, paths, filepath.Join(dir, "goodput-vs-loss.png"))
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var back struct {
		Results []Result `json:"results"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Results, len(rep.Results))
}

func TestBulkPayloadIsDeterministicAndIncompressible(t *testing.T) {
	a, sa := bulkPayload(1000, 7)
	b, sb := bulkPayload(1000, 7)
	c, _ := bulkPayload(1000, 8)
	require.Equal(t, a, b)
	require.Equal(t, sa, sb)
	require.NotEqual(t, a, c)
	zeros := bytes.Count(a, []byte{0})
	require.Less(t, zeros, 20, "payload looks compressible")
}

func TestRealtimeMessageRoundTrip(t *testing.T) {
	m := realtimeMessage(42, 1234*time.Microsecond, 9)
	require.Len(t, m, MessageSize)
	seq, sent, err := parseRealtimeMessage(m)
	require.NoError(t, err)
	require.Equal(t, uint32(42), seq)
	require.Equal(t, 1234*time.Microsecond, sent)

	for name, mutate := range map[string]func([]byte) []byte{
		"flipped_payload_bit": func(b []byte) []byte { b[100] ^= 1; return b },
		"flipped_seq_bit":     func(b []byte) []byte { b[0] ^= 0x80; return b },
		"truncated":           func(b []byte) []byte { return b[:150] },
		"empty":               func(b []byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := parseRealtimeMessage(mutate(realtimeMessage(42, time.Millisecond, 9)))
			require.Error(t, err)
		})
	}
}

func TestPercentilesCountLostMessagesAsInfinitelyLate(t *testing.T) {
	tests := []struct {
		name          string
		lat           []float64
		count         int
		p50, p99, max float64
	}{
		{"none_lost", []float64{3, 1, 2, 4}, 4, 2, 4, 4},
		{"one_of_100_lost", seq(99), 100, 50, 99, math.Inf(1)},
		{"two_of_100_lost", seq(98), 100, 50, math.Inf(1), math.Inf(1)},
		{"all_lost", nil, 3, math.Inf(1), math.Inf(1), math.Inf(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			fillPercentiles(&r, tc.lat, tc.count)
			require.Equal(t, tc.p50, float64(r.LatencyP50Ms))
			require.Equal(t, tc.p99, float64(r.LatencyP99Ms))
			require.Equal(t, tc.max, float64(r.LatencyMaxMs))
		})
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestMillisJSON(t *testing.T) {
	b, err := json.Marshal([]Millis{1.5, Millis(math.Inf(1))})
	require.NoError(t, err)
	require.Equal(t, "[1.5,null]", string(b))
	var back []Millis
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, Millis(1.5), back[0])
	require.True(t, math.IsInf(float64(back[1]), 1))
}

// TestFailuresAreNeverResults checks that the report shows a corrupted or
// short transfer as a failure, not as a goodput, and that a target cannot
// be met by an unverified run.
func TestFailuresAreNeverResults(t *testing.T) {
	o, err := DefaultOptions()
	require.NoError(t, err)
	o.Profiles, err = SelectProfiles("P0")
	require.NoError(t, err)
	o.Transports, err = SelectTransports("skiff-rto,skiff-nack")
	require.NoError(t, err)
	results := []Result{
		{Profile: "P0", Transport: "skiff-rto", Workload: WorkloadBulk, Status: StatusFailed,
			Error: "SHA-256 mismatch", DeliveredBytes: 8 << 20, GoodputMbps: 99, WireRatio: 1.0},
		{Profile: "P0", Transport: "skiff-nack", Workload: WorkloadBulk, Status: StatusOK, Verified: true,
			DeliveredBytes: 8 << 20, GoodputMbps: 30, WireRatio: 1.05},
	}
	rep := &Report{Results: results, Summaries: Summarize(results, o)}
	for _, p := range o.Profiles {
		rep.Profiles = append(rep.Profiles, ProfileInfo{p.Name, p.Description})
	}
	for _, tr := range o.Transports {
		rep.Transports = append(rep.Transports, TransportInfo{Name: tr.Name()})
	}
	var md strings.Builder
	require.NoError(t, WriteMarkdown(&md, rep))
	require.Contains(t, md.String(), "| skiff-rto | **FAIL** |")
	require.NotContains(t, md.String(), "99.0")
	for _, c := range CheckTargets(rep) {
		if c.Metric == "bulk goodput" {
			require.Equal(t, "skiff-nack", c.Transport, "the failed run must not count as the best")
			require.False(t, c.Met)
		}
	}
}

func TestSelectErrors(t *testing.T) {
	_, err := SelectProfiles("P0,P9")
	require.ErrorContains(t, err, `unknown profile "p9"`)
	_, err = SelectTransports("quic")
	require.ErrorContains(t, err, `unknown transport "quic"`)
	ts, err := SelectTransports("kcp")
	require.NoError(t, err)
	require.Len(t, ts, 3)
}

func TestSelectFamiliesAndControllers(t *testing.T) {
	names := func(ts []Transport) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Name())
		}
		return out
	}
	ts, err := SelectTransports("skiff")
	require.NoError(t, err)
	require.Equal(t, []string{"skiff-rto", "skiff-nack", "skiff-fec-rs", "skiff-fec-xor"}, names(ts),
		"a family selects its members of the default set")
	ts, err = SelectTransports("skiff-rto,skiff-reno,skiff-cubic,skiff-nocc")
	require.NoError(t, err)
	require.Equal(t, []string{"skiff-rto", "skiff-reno", "skiff-cubic", "skiff-nocc"}, names(ts))
	for _, tr := range ts[1:] {
		cfg, err := tr.(*skiffTransport).config()
		require.NoError(t, err)
		require.Equal(t, skiff.RecoveryRTO, cfg.Recovery, tr.Name())
		require.Contains(t, []string{"reno", "cubic", "none"}, cfg.Congestion, tr.Name())
	}
	ts, err = SelectTransports("all")
	require.NoError(t, err)
	require.Contains(t, names(ts), "skiff-nocc")
}

func TestProfilesMatchIssue(t *testing.T) {
	ps, err := Profiles()
	require.NoError(t, err)
	require.Len(t, ps, 6)
	for _, p := range ps {
		require.Equal(t, 10*time.Millisecond, p.Link.Delay, p.Name)
		require.Equal(t, 62_500, p.Link.QueueBytes, p.Name)
		require.Equal(t, int64(50_000_000), p.Link.Bandwidth, p.Name)
	}
	require.InDelta(t, 0.05, ps[4].Link.Burst.LossRate(), 1e-9)
	require.True(t, ps[4].Link.AllowReorder)
	require.Equal(t, int64(10_000_000), ps[5].Changes[0].Link.Bandwidth)
	require.Equal(t, 5*time.Second, ps[5].Changes[1].At-ps[5].Changes[0].At)
}

func TestVideoStreamShape(t *testing.T) {
	var kinds string
	for n := 0; n < 10; n++ {
		kinds += string(videoKind(n))
	}
	require.Equal(t, "IBBPBBPBBP", kinds)
	require.Equal(t, byte('I'), videoKind(30))
	f := videoFrame(3, 5*time.Millisecond, 1)
	require.Len(t, f, videoPBytes)
	n, k, at, err := parseVideoFrame(f)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, FrameP, k)
	require.Equal(t, 5*time.Millisecond, at)
	f[100] ^= 1
	_, _, _, err = parseVideoFrame(f)
	require.ErrorContains(t, err, "digest mismatch")
}
