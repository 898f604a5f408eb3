package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WritePlots writes the PNG plots of the report into dir and returns their
// paths: goodput vs loss rate per transport (random-loss profiles), the
// latency CDF of the realtime workload per profile, and cwnd/ssthresh over
// time of the traced skiff run. A plot without data is skipped.
func WritePlots(dir string, r *Report) ([]string, error) {
	var paths []string
	add := func(name string, p *plot.Plot, err error) error {
		if err != nil || p == nil {
			return err
		}
		path := filepath.Join(dir, name)
		if err := p.Save(20*vg.Centimeter, 13*vg.Centimeter, path); err != nil {
			return fmt.Errorf("bench: plot %s: %w", path, err)
		}
		paths = append(paths, path)
		return nil
	}
	p, err := goodputPlot(r)
	if err := add("goodput-vs-loss.png", p, err); err != nil {
		return paths, err
	}
	for _, pr := range r.Profiles {
		p, err := latencyCDFPlot(r, pr.Name)
		if err := add("latency-cdf-"+pr.Name+".png", p, err); err != nil {
			return paths, err
		}
	}
	p, err = cwndPlot(r)
	if err := add("cwnd.png", p, err); err != nil {
		return paths, err
	}
	return paths, nil
}

// lossProfiles are the profiles that differ from P0 only by random loss.
var lossProfiles = map[string]float64{"P0": 0, "P1": 1, "P2": 5, "P3": 10}

func goodputPlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Bulk goodput vs random loss (%s, 50 Mbit/s, 10 ms one-way)", sizeString(r.Meta.BulkBytes))
	p.X.Label.Text = "random loss (%)"
	p.Y.Label.Text = "goodput (Mbit/s), verified runs"
	p.Y.Min = 0
	p.Y.Max = float64(BaseBandwidth) / 1e6 * 1.6 // room for the legend above the 50 Mbit/s link rate
	p.Legend.Top = true
	any := false
	for i, t := range r.Transports {
		var xy plotter.XYs
		for _, pr := range r.Profiles {
			loss, ok := lossProfiles[pr.Name]
			if !ok {
				continue
			}
			if s := r.Find(pr.Name, t.Name, WorkloadBulk); s != nil && s.Status == StatusOK {
				xy = append(xy, plotter.XY{X: loss, Y: float64(s.Goodput.Median)})
			}
		}
		if len(xy) == 0 {
			continue
		}
		slices.SortFunc(xy, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		style(i, l, pts)
		p.Add(l, pts)
		p.Legend.Add(t.Name, l, pts)
		any = true
	}
	if !any {
		return nil, nil
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

func latencyCDFPlot(r *Report, profile string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Realtime one-way latency CDF, %s (%d B at %d Hz; lost messages never reach 1)", profile, MessageSize, MessageRate)
	p.X.Label.Text = "one-way latency (ms, log scale)"
	p.Y.Label.Text = "fraction of messages sent"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = msTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false // bottom right: the curves reach 1 at the right
	p.Legend.Left = false
	any := false
	for i, t := range r.Transports {
		var lat []float64
		sent := 0
		for _, res := range r.Results {
			if res.Profile == profile && res.Transport == t.Name && res.Workload == WorkloadRealtime &&
				res.Status != StatusUnavailable && res.MessagesSent > 0 {
				lat = append(lat, res.LatenciesMs...)
				sent += res.MessagesSent
			}
		}
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		xy := make(plotter.XYs, 0, len(lat))
		for k, v := range lat {
			xy = append(xy, plotter.XY{X: math.Max(v, 0.1), Y: float64(k+1) / float64(sent)})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		style(i, l, nil)
		p.Add(l)
		p.Legend.Add(t.Name, l)
		any = true
	}
	if !any {
		return nil, nil
	}
	p.X.Min = math.Min(p.X.Min, 5) // show the 10 ms tick: one-way delay is 10 ms
	p.Add(plotter.NewGrid())
	return p, nil
}

func cwndPlot(r *Report) (*plot.Plot, error) {
	if len(r.Trace) == 0 {
		return nil, nil
	}
	t0 := r.Trace[0].Time
	var cw, ss plotter.XYs
	for _, e := range r.Trace {
		x := e.Time.Sub(t0).Seconds()
		cw = append(cw, plotter.XY{X: x, Y: float64(e.CWND) / 1000})
		if e.SSThresh > 0 && e.SSThresh < 1<<30 {
			ss = append(ss, plotter.XY{X: x, Y: float64(e.SSThresh) / 1000})
		}
	}
	p := plot.New()
	p.Title.Text = "Congestion window over time: " + r.TraceCell
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "KB"
	p.Y.Min = 0
	p.Legend.Top = true
	l, err := plotter.NewLine(cw)
	if err != nil {
		return nil, err
	}
	l.Color = plotutil.Color(0)
	p.Add(l)
	p.Legend.Add("cwnd", l)
	if len(ss) > 0 {
		s, err := plotter.NewLine(ss)
		if err != nil {
			return nil, err
		}
		s.Color = plotutil.Color(1)
		s.Dashes = plotutil.Dashes(1)
		p.Add(s)
		p.Legend.Add("ssthresh", s)
	}
	// BDP reference: 50 Mbit/s × 20 ms RTT.
	bdp := float64(BaseBandwidth) / 8 * (2 * BaseDelay).Seconds() / 1000
	ref := plotter.NewFunction(func(float64) float64 { return bdp })
	ref.Color = color.Gray{Y: 128}
	ref.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(ref)
	p.Legend.Add(fmt.Sprintf("BDP %.0f KB", bdp), ref)
	p.Add(plotter.NewGrid())
	return p, nil
}

func style(i int, l *plotter.Line, pts *plotter.Scatter) {
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i / 7)
	l.Width = vg.Points(1.5)
	if pts != nil {
		pts.Color = plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// msTicks labels a logarithmic millisecond axis at 1-2-5 steps.
type msTicks struct{}

func (msTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for dec := math.Pow(10, math.Floor(math.Log10(min))); dec <= max; dec *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := dec * m
			if v >= min && v <= max {
				ts = append(ts, plot.Tick{Value: v, Label: strconvFloat(v)})
			}
		}
		for m := 1.0; m < 10; m++ {
			if v := dec * m; v >= min && v <= max && m != 1 && m != 2 && m != 5 {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}

func strconvFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
