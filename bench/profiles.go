package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/skiffnet/skiff/netem"
)

// Profile is one emulated link of the comparison: the same impairment in both
// directions, optionally changed on a schedule measured from the start of the
// workload (P5's bandwidth drop). The zero value is an unimpaired link.
// Profiles are values; they are safe to share between goroutines.
type Profile struct {
	// Name is the short name used in tables and flags ("P0".."P5").
	Name string
	// Description says in words what the link does.
	Description string
	// Link is the netem profile applied to each direction at the start.
	Link netem.Profile
	// LossPercent is the nominal loss rate in percent (x axis of the
	// goodput-vs-loss plot).
	LossPercent float64
	// Changes are applied to both directions at the given offsets after the
	// workload starts, in order.
	Changes []ProfileChange
}

// ProfileChange replaces the link profile of both directions At an offset
// from the start of the workload.
type ProfileChange struct {
	At   time.Duration
	Link netem.Profile
}

// Constants of the comparison's link (issue 8): a 50 Mbit/s bottleneck, 10 ms
// one-way delay and a drop-tail queue of one bandwidth-delay product.
const (
	BaseBandwidth  = 50_000_000 // bits/s
	BaseDelay      = 10 * time.Millisecond
	BaseQueueBytes = 62_500 // 62.5 KB = 50 Mbit/s × 10 ms
	// P5DropBandwidth is P5's bandwidth during the drop.
	P5DropBandwidth = 10_000_000
	// P5DropStart and P5DropLength place P5's drop: it starts 0.5 s into the
	// workload (mid-run for an 8 MiB transfer at 50 Mbit/s, which takes ~1.4 s)
	// and lasts 5 s.
	P5DropStart  = 500 * time.Millisecond
	P5DropLength = 5 * time.Second
)

func baseLink() netem.Profile {
	return netem.Profile{Delay: BaseDelay, Bandwidth: BaseBandwidth, QueueBytes: BaseQueueBytes}
}

// Profiles returns P0..P5 exactly as issue 8 defines them.
func Profiles() ([]Profile, error) {
	p0 := baseLink()
	withLoss := func(l float64) netem.Profile { p := baseLink(); p.Loss = l; return p }

	ge, err := netem.GilbertElliottFromLoss(0.05, 3)
	if err != nil {
		return nil, fmt.Errorf("bench: P4 Gilbert-Elliott model: %w", err)
	}
	p4 := baseLink()
	p4.Burst = &ge
	p4.Jitter = 5 * time.Millisecond
	p4.JitterDist = netem.JitterUniform
	p4.AllowReorder = true

	p5drop := baseLink()
	p5drop.Bandwidth = P5DropBandwidth

	ps := []Profile{
		{Name: "P0", Description: "clean: 50 Mbit/s, 10 ms one-way, 62.5 KB drop-tail queue", Link: p0},
		{Name: "P1", Description: "P0 + 1% random loss", Link: withLoss(0.01), LossPercent: 1},
		{Name: "P2", Description: "P0 + 5% random loss", Link: withLoss(0.05), LossPercent: 5},
		{Name: "P3", Description: "P0 + 10% random loss", Link: withLoss(0.10), LossPercent: 10},
		{Name: "P4", Description: "P0 + 5% Gilbert-Elliott loss (mean burst 3) + ±5 ms uniform jitter with reordering", Link: p4, LossPercent: 5},
		{Name: "P5", Description: "P0, bandwidth drops to 10 Mbit/s for 5 s from 0.5 s into the run", Link: p0,
			Changes: []ProfileChange{{At: P5DropStart, Link: p5drop}, {At: P5DropStart + P5DropLength, Link: p0}}},
	}
	for _, p := range ps {
		if err := p.Link.Validate(); err != nil {
			return nil, fmt.Errorf("bench: profile %s: %w", p.Name, err)
		}
	}
	return ps, nil
}

// SelectProfiles returns the profiles named in a comma-separated list
// ("P0,P2"; case-insensitive; "all" or "" for all of them).
func SelectProfiles(list string) ([]Profile, error) {
	all, err := Profiles()
	if err != nil {
		return nil, err
	}
	names := splitList(list)
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return all, nil
	}
	var out []Profile
	for _, n := range names {
		found := false
		for _, p := range all {
			if strings.EqualFold(p.Name, n) {
				out = append(out, p)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("bench: unknown profile %q (have %s)", n, profileNames(all))
		}
	}
	return out, nil
}

func profileNames(ps []Profile) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

// splitList splits a comma-separated flag value, trimming blanks and
// dropping empty items; items are lower-cased.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
