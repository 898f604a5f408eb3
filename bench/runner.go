package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// Options choose the matrix and its sizes. The zero value is not useful;
// start from DefaultOptions.
type Options struct {
	Profiles   []Profile
	Transports []Transport
	// Workloads to run: WorkloadBulk, WorkloadRealtime.
	Workloads []string
	// Seeds of the emulated links; every cell runs once per seed and
	// repetition (link seed = seed + 1000·rep).
	Seeds []int64
	Reps  int

	// BulkBytes is the bulk payload (8 MiB by default).
	BulkBytes int
	// RealtimeMessages is the number of messages of the realtime workload
	// (at MessageRate per second) and RealtimeDrain how long the receiver
	// waits after the last send.
	RealtimeMessages int
	RealtimeDrain    time.Duration
	// VideoFrames is the number of frames of the video workload (at
	// VideoFPS); it shares RealtimeDrain.
	VideoFrames int
	// RealtimeParallel is how many realtime cells run at once and
	// VideoParallel how many video cells (they use little CPU: 50 small
	// messages or 684 kbit/s each); bulk cells always run one at a time so
	// they do not steal each other's CPU. Realtime cells measure latency
	// within a millisecond or two of the link's floor, so they get fewer
	// neighbours: every cell's wake-ups, and the set-up and teardown of the
	// kernel-TCP cells' namespaces, delay the others' by up to a few
	// milliseconds on a 2-core machine (30 at once: bare UDP p99 12.2–12.6
	// ms on P0; 15: 11.3–11.7). 18 is four waves of the default matrix's
	// 72 realtime cells, about 27 s.
	RealtimeParallel int
	VideoParallel    int
	// CellTimeout bounds one run of one cell, set-up included.
	CellTimeout time.Duration
	// Bulk cells run one at a time, except that a bulk run whose rate over
	// the last second stays below LightRate (bits/s) after LightAfter moves
	// to the background, where up to MaxBackground slow runs continue while
	// the next cell starts (a 2 Mbit/s transfer needs little CPU; this is
	// what lets slow peers keep their full timeout within the time budget).
	// LightRate 0 disables it.
	LightRate     float64
	LightAfter    time.Duration
	MaxBackground int

	// TraceProfile names the profile whose first skiff bulk run records
	// its congestion controller's cwnd/ssthresh (for the plot); "" = none.
	TraceProfile string

	// Progress, when set, is called after each run (from the runner's
	// goroutines, serialised).
	Progress func(done, total int, r Result)
}

// DefaultOptions returns the default matrix of issue 8: P0..P5, every
// transport, bulk and realtime, one seed, one repetition.
func DefaultOptions() (Options, error) {
	ps, err := Profiles()
	if err != nil {
		return Options{}, err
	}
	return Options{
		Profiles:         ps,
		Transports:       Transports(),
		Workloads:        []string{WorkloadBulk, WorkloadRealtime, WorkloadVideo},
		Seeds:            []int64{1},
		Reps:             1,
		BulkBytes:        8 << 20,
		RealtimeMessages: 300, // 6 s at 50 Hz: spans P5's bandwidth drop
		RealtimeDrain:    2 * time.Second,
		VideoFrames:      150, // 5 s at 30 frames/s
		RealtimeParallel: 18,
		VideoParallel:    30,
		CellTimeout:      45 * time.Second,
		LightRate:        15e6,
		LightAfter:       1500 * time.Millisecond,
		MaxBackground:    8,
		TraceProfile:     "P2",
	}, nil
}

// Validate reports the first option that cannot work.
func (o *Options) Validate() error {
	switch {
	case len(o.Profiles) == 0:
		return errors.New("bench: no profiles selected")
	case len(o.Transports) == 0:
		return errors.New("bench: no transports selected")
	case len(o.Workloads) == 0:
		return errors.New("bench: no workloads selected")
	case len(o.Seeds) == 0:
		return errors.New("bench: no seeds")
	case o.Reps < 1:
		return fmt.Errorf("bench: repetitions must be at least 1 (got %d)", o.Reps)
	case o.BulkBytes < 1:
		return fmt.Errorf("bench: bulk size must be positive (got %d)", o.BulkBytes)
	case o.RealtimeMessages < 1:
		return fmt.Errorf("bench: realtime message count must be positive (got %d)", o.RealtimeMessages)
	case o.VideoFrames < 1 && slices.Contains(o.Workloads, WorkloadVideo):
		return fmt.Errorf("bench: video frame count must be positive (got %d)", o.VideoFrames)
	case o.CellTimeout <= 0:
		return fmt.Errorf("bench: cell timeout must be positive (got %v)", o.CellTimeout)
	}
	for _, w := range o.Workloads {
		if w != WorkloadBulk && w != WorkloadRealtime && w != WorkloadVideo {
			return fmt.Errorf("bench: unknown workload %q (have bulk, realtime, video)", w)
		}
	}
	return nil
}

// Report is the outcome of Run.
type Report struct {
	Meta       Meta            `json:"meta"`
	Profiles   []ProfileInfo   `json:"profiles"`
	Transports []TransportInfo `json:"transports"`
	Results    []Result        `json:"results"`
	Summaries  []Summary       `json:"summaries"`
	// Trace holds the congestion events of one skiff bulk run (TraceCell
	// names it), for the cwnd/ssthresh plot.
	Trace     []congestion.Event `json:"-"`
	TraceCell string             `json:"trace_cell,omitempty"`
}

// Meta describes where and how the report was measured.
type Meta struct {
	Started      time.Time `json:"started"`
	WallSeconds  float64   `json:"wall_seconds"`
	GoVersion    string    `json:"go_version"`
	OS           string    `json:"os"`
	Arch         string    `json:"arch"`
	CPUs         int       `json:"cpus"`
	CPUModel     string    `json:"cpu_model,omitempty"`
	BulkBytes    int       `json:"bulk_bytes"`
	RealtimeMsgs int       `json:"realtime_messages"`
	VideoFrames  int       `json:"video_frames"`
	Seeds        []int64   `json:"seeds"`
	Reps         int       `json:"reps"`
	CellTimeout  string    `json:"cell_timeout"`
}

// ProfileInfo records a profile that was compared.
type ProfileInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// TransportInfo records a transport that was compared and, if it could
// not run here, why.
type TransportInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Available   string `json:"unavailable_reason,omitempty"`
}

type cell struct {
	profile   Profile
	transport Transport
	workload  string
	seed      int64
	rep       int
	trace     bool
}

// Run executes the matrix: bulk cells one at a time, then video cells
// VideoParallel at a time, then realtime cells RealtimeParallel at a time
// (last, so that the slow bulk runs still finishing in the background have
// mostly ended before the latency measurements start). It returns when every run has finished or ctx
// is cancelled (remaining runs are then skipped).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Meta: Meta{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), BulkBytes: o.BulkBytes, RealtimeMsgs: o.RealtimeMessages, VideoFrames: o.VideoFrames,
		Seeds: o.Seeds, Reps: o.Reps, CellTimeout: o.CellTimeout.String(),
	}}
	for _, p := range o.Profiles {
		rep.Profiles = append(rep.Profiles, ProfileInfo{p.Name, p.Description})
	}
	avail := map[string]error{}
	for _, t := range o.Transports {
		err := t.Available()
		avail[t.Name()] = err
		ti := TransportInfo{Name: t.Name(), Description: t.Description()}
		if err != nil {
			ti.Available = err.Error()
		}
		rep.Transports = append(rep.Transports, ti)
	}

	var bulk, video, realtime []cell
	traced := false
	for _, w := range o.Workloads {
		for _, p := range o.Profiles {
			for _, t := range o.Transports {
				for _, s := range o.Seeds {
					for r := 0; r < o.Reps; r++ {
						c := cell{profile: p, transport: t, workload: w, seed: s, rep: r}
						if w == WorkloadBulk && !traced && p.Name == o.TraceProfile &&
							isSkiff(t) && avail[t.Name()] == nil {
							c.trace, traced = true, true
						}
						switch w {
						case WorkloadBulk:
							bulk = append(bulk, c)
						case WorkloadVideo:
							video = append(video, c)
						default:
							realtime = append(realtime, c)
						}
					}
				}
			}
		}
	}

	total := len(bulk) + len(video) + len(realtime)
	var mu sync.Mutex
	done := 0
	record := func(r Result, trace []congestion.Event, c cell) {
		mu.Lock()
		defer mu.Unlock()
		rep.Results = append(rep.Results, r)
		if c.trace {
			rep.Trace = trace
			rep.TraceCell = fmt.Sprintf("%s %s %s seed %d", c.transport.Name(), c.profile.Name, c.workload, r.Seed)
		}
		done++
		if o.Progress != nil {
			o.Progress(done, total, r)
		}
	}

	// Bulk: one heavy run at a time; slow runs continue in the background.
	heavy := make(chan struct{}, 1)
	background := make(chan struct{}, max(1, o.MaxBackground))
	var wg sync.WaitGroup
	for _, c := range bulk {
		if ctx.Err() != nil {
			break
		}
		heavy <- struct{}{}
		background <- struct{}{}
		var once sync.Once
		release := func() { once.Do(func() { <-heavy }) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-background }()
			defer release()
			var light func()
			if o.LightRate > 0 {
				light = release
			}
			r, tr := runCell(ctx, o, c, avail[c.transport.Name()], light)
			record(r, tr, c)
		}()
	}
	// Video, then realtime cells start once no heavy bulk run is left (slow
	// bulk runs may still be finishing beside them).
	heavy <- struct{}{}
	<-heavy
	runPool := func(cells []cell, parallel int) {
		work := make(chan cell)
		var pool sync.WaitGroup
		for range max(1, parallel) {
			pool.Add(1)
			go func() {
				defer pool.Done()
				for c := range work {
					r, tr := runCell(ctx, o, c, avail[c.transport.Name()], nil)
					record(r, tr, c)
				}
			}()
		}
		for _, c := range cells {
			if ctx.Err() != nil {
				break
			}
			work <- c
		}
		close(work)
		pool.Wait()
	}
	runPool(video, o.VideoParallel)
	runPool(realtime, o.RealtimeParallel)
	wg.Wait()

	_ = releaseKernelLinks() // namespaces kept between kernel-TCP cells
	rep.Meta.WallSeconds = time.Since(rep.Meta.Started).Seconds()
	sortResults(rep.Results, o)
	rep.Summaries = Summarize(rep.Results, o)
	return rep, ctx.Err()
}

func isSkiff(t Transport) bool { return len(t.Name()) > 6 && t.Name()[:6] == "skiff-" }

// runCell runs one cell once.
func runCell(ctx context.Context, o Options, c cell, unavailable error, light func()) (Result, []congestion.Event) {
	seed := c.seed + 1000*int64(c.rep)
	res := Result{Profile: c.profile.Name, Transport: c.transport.Name(), Workload: c.workload, Seed: seed, Rep: c.rep}
	if unavailable != nil {
		res.Status = StatusUnavailable
		res.Error = unavailable.Error()
		return res, nil
	}
	start := time.Now()
	defer func() { res.WallMs = ms(time.Since(start)) }()

	cctx, cancel := context.WithTimeout(ctx, o.CellTimeout)
	defer cancel()
	if vr, ok := c.transport.(videoRunner); ok && c.workload == WorkloadVideo {
		vr.runVideo(cctx, LinkSpec{Profile: c.profile.Link, Seed: seed, Workload: c.workload},
			o.VideoFrames, o.RealtimeDrain, seed, c.profile.Changes, &res)
		return res, nil
	}
	var tracer *traceRecorder
	spec := LinkSpec{Profile: c.profile.Link, Seed: seed, Workload: c.workload}
	if c.trace {
		tracer = &traceRecorder{start: time.Now()}
		spec.Tracer = tracer.record
	}
	pair, err := c.transport.Open(cctx, spec)
	if err != nil {
		res.Status = StatusFailed
		if errors.Is(err, ErrUnavailable) {
			res.Status = StatusUnavailable
		} else if cctx.Err() != nil {
			res.Status = StatusTimeout
		}
		res.Error = "set-up: " + err.Error()
		return res, nil
	}
	switch c.workload {
	case WorkloadBulk:
		payload, sum := bulkPayload(o.BulkBytes, seed)
		runBulk(cctx, pair, payload, sum, c.profile.Changes, &res, light, o.LightRate, o.LightAfter)
	case WorkloadRealtime:
		runRealtime(cctx, pair, o.RealtimeMessages, o.RealtimeDrain, seed, c.profile.Changes, &res)
	case WorkloadVideo:
		runVideo(cctx, pair, o.VideoFrames, o.RealtimeDrain, seed, c.profile.Changes, &res)
	}
	res.Data = pair.Link.DataStats()
	res.Return = pair.Link.ReturnStats()
	if c.workload == WorkloadBulk {
		res.WireBytes = res.Data.OfferedBytes + uint64(pair.PacketOverhead)*res.Data.OfferedPackets
		if res.PayloadBytes > 0 {
			res.WireRatio = float64(res.WireBytes) / float64(res.PayloadBytes)
		}
	}
	_ = pair.Close() // close errors after a verified run do not change it
	var events []congestion.Event
	if tracer != nil {
		events = tracer.events()
	}
	return res, events
}

// traceRecorder collects congestion events (bounded) from a session's loop.
type traceRecorder struct {
	mu    sync.Mutex
	start time.Time
	evs   []congestion.Event
}

const maxTraceEvents = 200_000

func (t *traceRecorder) record(e congestion.Event) {
	t.mu.Lock()
	if len(t.evs) < maxTraceEvents {
		t.evs = append(t.evs, e)
	}
	t.mu.Unlock()
}

func (t *traceRecorder) events() []congestion.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]congestion.Event(nil), t.evs...)
}
