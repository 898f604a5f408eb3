package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// WriteJSON writes the whole report (meta, profiles, transports, every run,
// summaries, target checks) as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Targets []TargetCheck `json:"targets"`
	}{r, CheckTargets(r)})
}

// csvHeader lists the columns of WriteCSV, one row per run.
var csvHeader = []string{
	"workload", "profile", "transport", "seed", "rep", "status", "verified", "error",
	"payload_bytes", "delivered_bytes", "completion_ms", "goodput_mbps", "wire_bytes", "wire_ratio",
	"messages_sent", "messages_received", "messages_lost", "latency_p50_ms", "latency_p99_ms", "latency_max_ms",
	"data_offered_packets", "data_offered_bytes", "data_delivered_packets", "data_dropped_loss", "data_dropped_burst",
	"data_dropped_queue", "return_offered_packets", "return_offered_bytes", "wall_ms",
}

// WriteCSV writes one row per run (the raw results).
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "inf"
		}
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, x := range r.Results {
		row := []string{
			x.Workload, x.Profile, x.Transport, strconv.FormatInt(x.Seed, 10), strconv.Itoa(x.Rep), x.Status,
			strconv.FormatBool(x.Verified), x.Error,
			strconv.FormatInt(x.PayloadBytes, 10), strconv.FormatInt(x.DeliveredBytes, 10), f(x.CompletionMs),
			f(x.GoodputMbps), u(x.WireBytes), f(x.WireRatio),
			strconv.Itoa(x.MessagesSent), strconv.Itoa(x.MessagesReceived), strconv.Itoa(x.MessagesLost),
			f(float64(x.LatencyP50Ms)), f(float64(x.LatencyP99Ms)), f(float64(x.LatencyMaxMs)),
			u(x.Data.OfferedPackets), u(x.Data.OfferedBytes), u(x.Data.DeliveredPackets), u(x.Data.DroppedLoss),
			u(x.Data.DroppedBurst), u(x.Data.DroppedQueue), u(x.Return.OfferedPackets), u(x.Return.OfferedBytes),
			f(x.WallMs),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTraceCSV writes the congestion trace of the traced run (TraceCell),
// one row per controller event: seconds since the first event, state,
// cwnd and bytes in flight (bytes), pacing rate (Mbit/s).
func WriteTraceCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"t_s", "state", "cwnd_bytes", "inflight_bytes", "pacing_mbps"}); err != nil {
		return err
	}
	for _, e := range r.Trace {
		row := []string{
			strconv.FormatFloat(e.Time.Sub(r.Trace[0].Time).Seconds(), 'f', 6, 64), e.State,
			strconv.Itoa(e.CWND), strconv.Itoa(e.BytesInFlight), strconv.FormatFloat(float64(e.PacingRate)/1e6, 'f', 3, 64),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFiles writes report.md, results.json, results.csv, cwnd.csv (when a
// run was traced) and the PNG plots
// into dir (created if missing) and returns the paths written.
func WriteFiles(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: output folder: %w", err)
	}
	var paths []string
	write := func(name string, fn func(io.Writer, *Report) error) error {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if err := fn(f, r); err != nil {
			f.Close()
			return fmt.Errorf("bench: write %s: %w", p, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("bench: write %s: %w", p, err)
		}
		paths = append(paths, p)
		return nil
	}
	for _, o := range []struct {
		name string
		fn   func(io.Writer, *Report) error
	}{{"report.md", WriteMarkdown}, {"results.json", WriteJSON}, {"results.csv", WriteCSV}} {
		if err := write(o.name, o.fn); err != nil {
			return paths, err
		}
	}
	if len(r.Trace) > 0 {
		if err := write("cwnd.csv", WriteTraceCSV); err != nil {
			return paths, err
		}
	}
	plots, err := WritePlots(dir, r)
	paths = append(paths, plots...)
	return paths, err
}

// ReadJSON loads a report written by WriteJSON (without the congestion
// trace), so that it can be rendered again.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("bench: read report: %w", err)
	}
	return &r, nil
}
