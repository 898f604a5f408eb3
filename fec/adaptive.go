package fec

import "math"

// groupLossProb returns P(X > m) for X ~ Binomial(k+m, p): the chance that
// a group of k data and m parity packets loses more than it can repair.
func groupLossProb(k, m int, p float64) float64 {
	n := k + m
	// Sum the upper tail directly so small targets keep their precision.
	q := 1 - p
	var sum float64
	for i := m + 1; i <= n; i++ {
		sum += binom(n, i) * math.Pow(p, float64(i)) * math.Pow(q, float64(n-i))
	}
	return sum
}

func binom(n, r int) float64 {
	if r < 0 || r > n {
		return 0
	}
	if r > n-r {
		r = n - r
	}
	c := 1.0
	for i := 1; i <= r; i++ {
		c = c * float64(n-r+i) / float64(i)
	}
	return c
}

// ParityFor returns the smallest m in [minM, maxM] for which a group of k
// data packets, sent with m parity packets over a path losing each packet
// independently with probability p, fails to recover with probability
// below target; maxM when none does. It is the rule behind
// Encoder.SetLossRate, exported for tests and capacity planning.
func ParityFor(k int, p, target float64, minM, maxM int) int {
	if !(p > 0) { // also NaN
		return minM
	}
	if p >= 1 {
		return maxM
	}
	for m := minM; m < maxM; m++ {
		if groupLossProb(k, m, p) < target {
			return m
		}
	}
	return maxM
}
