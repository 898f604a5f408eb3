package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parsePercent reads a probability written as a percentage ("5%", "0.5%")
// or a fraction ("0.05"). It rejects values outside [0%, 100%].
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	var v float64
	var err error
	if num, ok := strings.CutSuffix(t, "%"); ok {
		v, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
		v /= 100
	} else {
		v, err = strconv.ParseFloat(t, 64)
	}
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a percentage (want e.g. 5%% or 0.05)", s)
	}
	if !strings.Contains(t, "%") && v > 1 && v <= 100 {
		return 0, fmt.Errorf("%q is outside 0..1 as a fraction (did you mean %s%%?)", s, t)
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is outside 0%%..100%%", s)
	}
	return v, nil
}

// rateUnits maps tc-style rate units to bits per second.
var rateUnits = []struct {
	suffix string
	mult   float64
}{
	{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
	{"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8},
}

// parseRate reads a bandwidth the way tc writes it: "10mbit", "500kbit",
// "1gbit", "64000bit" (bits per second), or "2mbps" (bytes per second, as
// tc reads "bps"). A bare number is bits per second. Zero means unlimited.
func parseRate(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a rate (want e.g. 10mbit, 500kbit, 1gbit)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	bits := v * mult
	if bits > 1e12 {
		return 0, fmt.Errorf("%q is above 1 Tbit/s", s)
	}
	return int64(bits), nil
}

// parseSize reads a byte count: "8MiB", "64KiB", "62.5KB", "1500", "1GiB".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size (want e.g. 8MiB, 64KiB, 1500)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	if v*mult > 1<<40 {
		return 0, fmt.Errorf("%q is above 1 TiB", s)
	}
	return int64(v * mult), nil
}

// parseDurationFlag reads a non-negative Go duration ("20ms", "1.5s").
func parseDurationFlag(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 20ms, 1.5s)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// The flag.Value adapters below let flag parsing report a bad value with the
// parser's message.

type percentValue struct{ p *float64 }

func (v percentValue) String() string {
	if v.p == nil {
		return "0%"
	}
	return strconv.FormatFloat(*v.p*100, 'g', -1, 64) + "%"
}
func (v percentValue) Set(s string) (err error) { *v.p, err = parsePercent(s); return }

type rateValue struct{ p *int64 }

func (v rateValue) String() string {
	if v.p == nil || *v.p == 0 {
		return "0 (unlimited)"
	}
	return strconv.FormatInt(*v.p, 10) + "bit"
}
func (v rateValue) Set(s string) (err error) { *v.p, err = parseRate(s); return }

type sizeValue struct{ p *int64 }

func (v sizeValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(*v.p, 10)
}
func (v sizeValue) Set(s string) (err error) { *v.p, err = parseSize(s); return }

type durationValue struct{ p *time.Duration }

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}
func (v durationValue) Set(s string) (err error) { *v.p, err = parseDurationFlag(s); return }

type floatValue struct{ p *float64 }

func (v floatValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}
func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return fmt.Errorf("%q is not a non-negative number", s)
	}
	*v.p = f
	return nil
}
