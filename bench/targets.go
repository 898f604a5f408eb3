package bench

import (
	"fmt"
	"math"
)

// Target is the goal issue 8 sets for skiff on one profile.
type Target struct {
	Profile string
	// MinGoodput is the bulk goodput (Mbit/s) the best skiff strategy must
	// reach.
	MinGoodput float64
	// MaxWireARQ bounds wire bytes / payload for the ARQ strategies (RTO,
	// NACK); FEC strategies may use FECWireAllowance more.
	MaxWireARQ float64
	// MaxP99 bounds the message p99 one-way latency (ms) per strategy.
	MaxP99RTO, MaxP99NACK, MaxP99FEC float64
}

// FECWireAllowance is the extra wire ratio the FEC strategies may spend.
const FECWireAllowance = 0.25

// Targets returns the targets table of issue 8 (P0..P4; P5 has none).
func Targets() []Target {
	return []Target{
		{"P0", 45, 1.08, 12, 12, 12},
		{"P1", 45, 1.10, 35, 52, 15},
		{"P2", 43, 1.15, 35, 52, 15},
		{"P3", 40, 1.22, 60, 75, 20},
		{"P4", 38, 1.18, 60, 75, 25},
	}
}

// TargetCheck is one comparison of a measured value with its target.
type TargetCheck struct {
	Profile   string  `json:"profile"`
	Metric    string  `json:"metric"`    // "bulk goodput", "wire ratio", "message p99"
	Transport string  `json:"transport"` // the strategy measured ("best skiff" for goodput)
	Value     float64 `json:"value"`
	Limit     float64 `json:"limit"`
	// AtLeast: the value must be ≥ Limit (goodput); otherwise ≤ Limit.
	AtLeast bool `json:"at_least"`
	// Measured is false when the cell did not run or did not verify; Met
	// is then false.
	Measured bool   `json:"measured"`
	Met      bool   `json:"met"`
	Note     string `json:"note,omitempty"`
}

// CheckTargets compares the report's skiff cells with Targets. Only cells
// whose every run verified its payload can meet a target.
func CheckTargets(r *Report) []TargetCheck {
	var out []TargetCheck
	for _, tg := range Targets() {
		if !r.hasProfile(tg.Profile) {
			continue
		}
		// Goodput: the best skiff strategy.
		best := TargetCheck{Profile: tg.Profile, Metric: "bulk goodput", Transport: "best skiff", Limit: tg.MinGoodput, AtLeast: true}
		for _, name := range skiffNames {
			s := r.Find(tg.Profile, name, WorkloadBulk)
			if s == nil || s.Status != StatusOK {
				continue
			}
			if v := float64(s.Goodput.Median); !best.Measured || v > best.Value {
				best.Value, best.Measured, best.Transport = v, true, name
			}
		}
		if !best.Measured {
			best.Note = "no skiff bulk run verified"
		}
		out = append(out, finish(best))

		for _, name := range skiffNames {
			limit := tg.MaxWireARQ
			if name == "skiff-fec-rs" || name == "skiff-fec-xor" {
				limit += FECWireAllowance
			}
			c := TargetCheck{Profile: tg.Profile, Metric: "wire ratio", Transport: name, Limit: limit}
			if s := r.Find(tg.Profile, name, WorkloadBulk); s != nil {
				c.Measured = s.Status == StatusOK
				c.Value = float64(s.WireRatio.Median)
				if !c.Measured {
					c.Note = describeStatus(s)
				}
			} else {
				continue
			}
			out = append(out, finish(c))
		}
		for _, name := range skiffNames {
			limit := tg.MaxP99FEC
			switch name {
			case "skiff-rto":
				limit = tg.MaxP99RTO
			case "skiff-nack":
				limit = tg.MaxP99NACK
			}
			c := TargetCheck{Profile: tg.Profile, Metric: "message p99", Transport: name, Limit: limit}
			if s := r.Find(tg.Profile, name, WorkloadRealtime); s != nil {
				c.Measured = s.Status == StatusOK
				c.Value = float64(s.P99.Median)
				if !c.Measured {
					c.Note = describeStatus(s)
				}
			} else {
				continue
			}
			out = append(out, finish(c))
		}
	}
	return out
}

var skiffNames = []string{"skiff-rto", "skiff-nack", "skiff-fec-rs", "skiff-fec-xor"}

func finish(c TargetCheck) TargetCheck {
	if !c.Measured {
		return c
	}
	if math.IsInf(c.Value, 1) {
		c.Note = "messages lost"
	}
	if c.AtLeast {
		c.Met = c.Value >= c.Limit
	} else {
		c.Met = c.Value <= c.Limit
	}
	return c
}

func describeStatus(s *Summary) string {
	if s.Status == StatusUnavailable {
		return "not available"
	}
	return fmt.Sprintf("%s: %s", s.Status, s.Error)
}

func (r *Report) hasProfile(name string) bool {
	for _, p := range r.Profiles {
		if p.Name == name {
			return true
		}
	}
	return false
}
