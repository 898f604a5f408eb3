package netem

import (
	"fmt"
	"math/rand/v2"
)

// GilbertElliott is a two-state Markov loss model. In the Good state packets
// are lost with probability LossInGood, in the Bad state with LossInBad; after
// each packet the state moves Good→Bad with probability PGoodToBad and
// Bad→Good with PBadToGood. The zero value never loses a packet. It is a plain
// value; the per-pipe state lives in the pipe.
type GilbertElliott struct {
	PGoodToBad, PBadToGood float64
	LossInGood, LossInBad  float64
}

// GilbertElliottFromLoss returns the simple Gilbert model (no loss in Good,
// all lost in Bad) whose long-run loss rate is lossRate and whose loss bursts
// last meanBurst packets on average: PBadToGood = 1/meanBurst and
// PGoodToBad = lossRate*PBadToGood/(1-lossRate).
func GilbertElliottFromLoss(lossRate, meanBurst float64) (GilbertElliott, error) {
	if err := checkProb("GilbertElliott lossRate", lossRate); err != nil {
		return GilbertElliott{}, err
	}
	if lossRate == 1 {
		return GilbertElliott{}, invalid("GilbertElliott lossRate", "must be below 1 (got %v)", lossRate)
	}
	if !(meanBurst >= 1) {
		return GilbertElliott{}, invalid("GilbertElliott meanBurst", "must be at least 1 packet (got %v)", meanBurst)
	}
	r := 1 / meanBurst
	p := lossRate * r / (1 - lossRate)
	if p > 1 {
		return GilbertElliott{}, invalid("GilbertElliott meanBurst",
			"is too short for loss rate %v (needs PGoodToBad %.3f > 1; use meanBurst ≥ %.3f)", lossRate, p, lossRate/(1-lossRate))
	}
	return GilbertElliott{PGoodToBad: p, PBadToGood: r, LossInGood: 0, LossInBad: 1}, nil
}

// Validate reports the first probability outside [0,1], naming it.
func (g GilbertElliott) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"Burst.PGoodToBad", g.PGoodToBad}, {"Burst.PBadToGood", g.PBadToGood},
		{"Burst.LossInGood", g.LossInGood}, {"Burst.LossInBad", g.LossInBad},
	} {
		if err := checkProb(f.name, f.v); err != nil {
			return err
		}
	}
	if g.PGoodToBad > 0 && g.PBadToGood == 0 {
		return invalid("Burst.PBadToGood", "must be positive when PGoodToBad is (got 0: the Bad state would never end)")
	}
	return nil
}

// LossRate is the model's long-run loss probability.
func (g GilbertElliott) LossRate() float64 {
	if g.PGoodToBad+g.PBadToGood == 0 {
		return g.LossInGood
	}
	bad := g.PGoodToBad / (g.PGoodToBad + g.PBadToGood)
	return (1-bad)*g.LossInGood + bad*g.LossInBad
}

// String formats the four probabilities.
func (g GilbertElliott) String() string {
	return fmt.Sprintf("GE(p=%.4g r=%.4g h=%.4g k=%.4g)", g.PGoodToBad, g.PBadToGood, g.LossInGood, g.LossInBad)
}

// geState is one pipe's Gilbert-Elliott state: false = Good.
type geState struct{ bad bool }

// lose decides the fate of one packet under model g, then moves the chain.
func (s *geState) lose(g *GilbertElliott, rng *rand.Rand) bool {
	pl := g.LossInGood
	if s.bad {
		pl = g.LossInBad
	}
	lost := pl > 0 && (pl >= 1 || rng.Float64() < pl)
	if s.bad {
		if g.PBadToGood > 0 && rng.Float64() < g.PBadToGood {
			s.bad = false
		}
	} else if g.PGoodToBad > 0 && rng.Float64() < g.PGoodToBad {
		s.bad = true
	}
	return lost
}
