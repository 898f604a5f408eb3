package netem

import (
	"math/rand/v2"
	"time"
)

// sampleDelay returns the propagation delay for one packet: Delay plus a
// jitter draw, never below zero.
func sampleDelay(p *Profile, rng *rand.Rand) time.Duration {
	d := p.Delay
	if p.Jitter > 0 {
		var j float64
		switch p.JitterDist {
		case JitterNormal:
			j = rng.NormFloat64() * float64(p.Jitter)
		default:
			j = (2*rng.Float64() - 1) * float64(p.Jitter)
		}
		d += time.Duration(j)
	}
	if d < 0 {
		d = 0
	}
	return d
}
