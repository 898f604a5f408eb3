package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/skiffnet/skiff/bench"
)

func cmdBench(ctx context.Context, e *env, args []string) error {
	o, err := bench.DefaultOptions()
	if err != nil {
		return err
	}
	fs := newFlagSet(e, "bench", "bench [flags]\n\nRuns every transport over the same emulated links (in this process, no root needed)\n"+
		"and prints a markdown table; raw results (JSON, CSV) and PNG plots go to -out.")
	profiles := fs.String("profiles", "all", "profiles to run, comma-separated (P0..P5)")
	transports := fs.String("transports", "default", "transports to run, comma-separated (default: skiff-*, TCP, kcp-*; 'all' adds the TCP variants and skiff controllers not in the default; names: skiff-rto, skiff-nack, skiff-fec-rs, skiff-fec-xor, skiff-reno, skiff-cubic, skiff-nocc (timed RTO with NewReno, CUBIC, no congestion control), tcp-bbr, tcp-cubic, tcp-reno (kernel, root), tcp-userspace, kcp-default, kcp-turbo, kcp-fec, rtp-media (video only), udp-floor (realtime only); 'skiff', 'tcp', 'kcp' select a family)")
	workloads := fs.String("workloads", "bulk,realtime,video", "workloads to run, comma-separated (bulk, realtime, video)")
	seeds := fs.String("seeds", "1", "link seeds, comma-separated; every cell runs once per seed and repetition")
	fs.IntVar(&o.Reps, "reps", o.Reps, "repetitions per seed; tables show the median and [min–max]")
	size := int64(o.BulkBytes)
	fs.Var(sizeValue{&size}, "size", "bulk payload size (e.g. 8MiB, 512KiB)")
	fs.IntVar(&o.RealtimeMessages, "messages", o.RealtimeMessages, "realtime messages per run (200 B at 50 Hz)")
	fs.IntVar(&o.VideoFrames, "frames", o.VideoFrames, "video frames per run (30 fps)")
	fs.Var(durationValue{&o.CellTimeout}, "timeout", "time limit of one run of one cell, set-up included")
	fs.IntVar(&o.RealtimeParallel, "parallel", o.RealtimeParallel, "realtime cells run at once (bulk cells always run one at a time)")
	fs.IntVar(&o.VideoParallel, "video-parallel", o.VideoParallel, "video cells run at once")
	fs.StringVar(&o.TraceProfile, "trace", o.TraceProfile, "profile whose first skiff bulk run records cwnd/ssthresh for cwnd.png ('' for none)")
	fs.IntVar(&o.MaxBackground, "background", o.MaxBackground, "slow bulk runs (< 15 Mbit/s after 1.5 s) that may continue in the background while the next cell starts; 0 runs every bulk cell strictly alone")
	out := fs.String("out", "bench-out", "output folder for report.md, results.json, results.csv and the PNG plots ('' to skip)")
	strict := fs.Bool("strict", false, "exit with status 1 if any cell failed verification or timed out")
	list := fs.Bool("list", false, "list profiles and transports, then exit")
	render := fs.String("render", "", "print the tables of an earlier run's results.json instead of running")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *render != "" {
		f, err := os.Open(*render)
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := bench.ReadJSON(f)
		if err != nil {
			return err
		}
		return bench.WriteMarkdown(e.stdout, rep)
	}
	if o.Profiles, err = bench.SelectProfiles(*profiles); err != nil {
		return usageErr("-profiles: %v", err)
	}
	if o.Transports, err = bench.SelectTransports(*transports); err != nil {
		return usageErr("-transports: %v", err)
	}
	if *list {
		for _, p := range o.Profiles {
			fmt.Fprintf(e.stdout, "%-4s %s\n", p.Name, p.Description)
		}
		for _, t := range o.Transports {
			avail := "available"
			if err := t.Available(); err != nil {
				avail = err.Error()
			}
			fmt.Fprintf(e.stdout, "%-14s %s [%s]\n", t.Name(), t.Description(), avail)
		}
		return nil
	}
	o.Workloads = nil
	for _, w := range strings.Split(*workloads, ",") {
		if w = strings.TrimSpace(strings.ToLower(w)); w != "" {
			o.Workloads = append(o.Workloads, w)
		}
	}
	o.Seeds = nil
	for _, s := range strings.Split(*seeds, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return usageErr("-seeds: %q is not an integer", s)
		}
		o.Seeds = append(o.Seeds, v)
	}
	if size > 1<<31 {
		return usageErr("-size: %d bytes is more than 2 GiB", size)
	}
	o.BulkBytes = int(size)
	if err := o.Validate(); err != nil {
		return &usageError{err.Error()}
	}

	if o.MaxBackground <= 0 {
		o.LightRate = 0
	}
	o.Progress = progressReporter(e)
	rep, err := bench.Run(ctx, o)
	if rep == nil {
		return err
	}
	if err := bench.WriteMarkdown(e.stdout, rep); err != nil {
		return err
	}
	if *out != "" {
		paths, werr := bench.WriteFiles(*out, rep)
		fmt.Fprintf(e.stderr, "wrote %d files to %s\n", len(paths), *out)
		if werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if *strict {
		for _, s := range rep.Summaries {
			if s.Status == bench.StatusFailed || s.Status == bench.StatusTimeout {
				return errors.New("some cells failed or timed out (see the table)")
			}
		}
	}
	return nil
}

// progressReporter draws a progress bar on a terminal, else prints one line
// per finished run, both on stderr (stdout carries the table).
func progressReporter(e *env) func(done, total int, r bench.Result) {
	if e.isTerminal {
		var bar *progressbar.ProgressBar
		return func(done, total int, r bench.Result) {
			if bar == nil {
				bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(e.stderr),
					progressbar.OptionSetDescription("skiff bench"),
					progressbar.OptionShowCount(),
					progressbar.OptionSetElapsedTime(true),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionClearOnFinish(),
				)
			}
			bar.Describe(fmt.Sprintf("%-8s %s %-13s", r.Workload, r.Profile, r.Transport))
			_ = bar.Set(done)
		}
	}
	start := time.Now()
	return func(done, total int, r bench.Result) {
		fmt.Fprintf(e.stderr, "[%3d/%d %4.0fs] %s\n", done, total, time.Since(start).Seconds(), describeResult(r))
	}
}

// describeResult is the one-line form of a run for progress output.
func describeResult(r bench.Result) string {
	head := fmt.Sprintf("%-8s %s %-13s seed %d:", r.Workload, r.Profile, r.Transport, r.Seed)
	switch {
	case r.Status == bench.StatusUnavailable:
		return head + " not available"
	case r.Workload == bench.WorkloadBulk && r.DeliveredBytes > 0:
		s := fmt.Sprintf("%s %s %.1f Mbit/s in %.1f s, wire ×%.2f", head, r.Status, r.GoodputMbps, r.CompletionMs/1000, r.WireRatio)
		if r.Error != "" {
			s += " — " + r.Error
		}
		return s
	case r.Workload == bench.WorkloadVideo && r.FramesSent > 0:
		s := fmt.Sprintf("%s %s", head, r.Status)
		for _, k := range []string{"I", "P", "B"} {
			if ks := r.Video[k]; ks != nil {
				s += fmt.Sprintf(" %s %d/%d", k, ks.OnTime, ks.Sent)
			}
		}
		s += fmt.Sprintf(" on time, p99 %.1f ms", float64(r.LatencyP99Ms))
		if r.Error != "" {
			s += " — " + r.Error
		}
		return s
	case r.Workload == bench.WorkloadRealtime && r.MessagesSent > 0:
		s := fmt.Sprintf("%s %s p50 %.1f ms, p99 %.1f ms, %d lost", head, r.Status, float64(r.LatencyP50Ms), float64(r.LatencyP99Ms), r.MessagesLost)
		if r.Error != "" {
			s += " — " + r.Error
		}
		return s
	}
	return fmt.Sprintf("%s %s %s (%.1f s)", head, r.Status, r.Error, time.Duration(r.WallMs*1e6).Seconds())
}
