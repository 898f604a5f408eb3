package bench

import (
	"math"
	"os"
	"slices"
	"strings"
)

// Summary aggregates the runs of one cell (profile × transport × workload)
// over seeds and repetitions: medians with their min and max.
type Summary struct {
	Profile   string `json:"profile"`
	Transport string `json:"transport"`
	Workload  string `json:"workload"`
	Runs      int    `json:"runs"`
	OKRuns    int    `json:"ok_runs"`
	// Status is StatusOK only if every run completed and verified;
	// otherwise the worst status seen, with Error from that run.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`

	Goodput    Spread `json:"goodput_mbps"`
	Completion Spread `json:"completion_ms"`
	WireRatio  Spread `json:"wire_ratio"`
	P50        Spread `json:"latency_p50_ms"`
	P99        Spread `json:"latency_p99_ms"`
	Max        Spread `json:"latency_max_ms"`
	Lost       Spread `json:"messages_lost"`
	// OnTime is the video share of frames complete by their deadline, per
	// kind ("I", "P", "B"), in percent.
	OnTime map[string]Spread `json:"video_on_time_percent,omitempty"`
}

// Spread is the median, minimum and maximum of a metric over runs. Values
// may be +Inf (latency of lost messages).
type Spread struct {
	Median Millis `json:"median"`
	Min    Millis `json:"min"`
	Max    Millis `json:"max"`
	N      int    `json:"n"`
}

func spreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var med float64
	if n := len(s); n%2 == 1 {
		med = s[n/2]
	} else if math.IsInf(s[n/2], 1) {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Median: Millis(med), Min: Millis(s[0]), Max: Millis(s[len(s)-1]), N: len(s)}
}

// statusRank orders statuses from best to worst.
func statusRank(s string) int {
	switch s {
	case StatusOK:
		return 0
	case StatusTimeout:
		return 2
	case StatusFailed:
		return 3
	case StatusUnavailable:
		return 1
	}
	return 4
}

// Summarize groups results by cell. Metrics of bulk runs are taken over
// every run that delivered bytes (a timeout still has a goodput: bytes
// delivered per second); latency over every finished realtime run.
func Summarize(results []Result, o Options) []Summary {
	type key struct{ p, t, w string }
	idx := map[key]int{}
	var out []Summary
	type acc struct {
		good, comp, wire, p50, p99, max, lost []float64
		onTime                                map[string][]float64
	}
	var accs []*acc
	for _, r := range results {
		k := key{r.Profile, r.Transport, r.Workload}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Summary{Profile: r.Profile, Transport: r.Transport, Workload: r.Workload, Status: StatusOK})
			accs = append(accs, &acc{onTime: map[string][]float64{}})
		}
		s, a := &out[i], accs[i]
		s.Runs++
		if r.OK() {
			s.OKRuns++
		} else if statusRank(r.Status) > statusRank(s.Status) || (s.Status != StatusOK && s.Error == "") {
			s.Status, s.Error = r.Status, r.Error
		}
		if r.Status == StatusUnavailable {
			continue
		}
		switch r.Workload {
		case WorkloadBulk:
			if r.DeliveredBytes > 0 {
				a.good = append(a.good, r.GoodputMbps)
				a.comp = append(a.comp, r.CompletionMs)
				a.wire = append(a.wire, r.WireRatio)
			}
		case WorkloadRealtime, WorkloadVideo:
			if r.MessagesSent > 0 {
				a.p50 = append(a.p50, float64(r.LatencyP50Ms))
				a.p99 = append(a.p99, float64(r.LatencyP99Ms))
				a.max = append(a.max, float64(r.LatencyMaxMs))
				a.lost = append(a.lost, float64(r.MessagesLost))
			}
			for k, ks := range r.Video {
				if ks.Sent > 0 {
					a.onTime[k] = append(a.onTime[k], 100*float64(ks.OnTime)/float64(ks.Sent))
				}
			}
		}
	}
	for i := range out {
		a := accs[i]
		out[i].Goodput, out[i].Completion, out[i].WireRatio = spreadOf(a.good), spreadOf(a.comp), spreadOf(a.wire)
		out[i].P50, out[i].P99, out[i].Max, out[i].Lost = spreadOf(a.p50), spreadOf(a.p99), spreadOf(a.max), spreadOf(a.lost)
		if len(a.onTime) > 0 {
			out[i].OnTime = map[string]Spread{}
			for k, v := range a.onTime {
				out[i].OnTime[k] = spreadOf(v)
			}
		}
	}
	return out
}

// Find returns the summary of a cell, or nil.
func (r *Report) Find(profile, transport, workload string) *Summary {
	for i := range r.Summaries {
		s := &r.Summaries[i]
		if s.Profile == profile && s.Transport == transport && s.Workload == workload {
			return s
		}
	}
	return nil
}

// sortResults orders results as the matrix: workload, profile, transport,
// seed, repetition.
func sortResults(rs []Result, o Options) {
	pos := func(list []string, v string) int { return slices.Index(list, v) }
	var pn, tn []string
	for _, p := range o.Profiles {
		pn = append(pn, p.Name)
	}
	for _, t := range o.Transports {
		tn = append(tn, t.Name())
	}
	slices.SortStableFunc(rs, func(a, b Result) int {
		if d := pos(o.Workloads, a.Workload) - pos(o.Workloads, b.Workload); d != 0 {
			return d
		}
		if d := pos(pn, a.Profile) - pos(pn, b.Profile); d != 0 {
			return d
		}
		if d := pos(tn, a.Transport) - pos(tn, b.Transport); d != 0 {
			return d
		}
		if a.Seed != b.Seed {
			if a.Seed < b.Seed {
				return -1
			}
			return 1
		}
		return a.Rep - b.Rep
	})
}

// cpuModel reads the CPU model name on Linux ("" elsewhere).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
