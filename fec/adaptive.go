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

// burstGroupLossProb returns the chance that more than m of n = k+m
// packets sent back to back are lost on a path with Gilbert's two-state
// loss (every packet lost in the Bad state, none in the Good one) whose
// loss rate is p and whose conditional loss P(lost | previous lost) is q.
// With q = p it is the independent case of groupLossProb.
func burstGroupLossProb(k, m int, p, q float64) float64 {
	n := k + m
	if p <= 0 {
		return 0
	}
	if p >= 1 || q >= 1 {
		return 1
	}
	g := p * (1 - q) / (1 - p) // P(Good -> Bad)
	// good[i], bad[i]: probability of i losses so far, the last packet
	// in that state.
	good := make([]float64, n+1)
	bad := make([]float64, n+1)
	good[0], bad[1] = 1-p, p
	for j := 1; j < n; j++ {
		ng := make([]float64, n+1)
		nb := make([]float64, n+1)
		for i := 0; i <= j; i++ {
			ng[i] += good[i]*(1-g) + bad[i]*(1-q)
			if i+1 <= n {
				nb[i+1] += good[i]*g + bad[i]*q
			}
		}
		good, bad = ng, nb
	}
	var sum float64
	for i := m + 1; i <= n; i++ {
		sum += good[i] + bad[i]
	}
	return sum
}

// BurstParityFor is ParityFor on a path with bursty loss: the smallest m
// in [minM, maxM] with burstGroupLossProb(k, m, p, q) below target (maxM
// when none is).
func BurstParityFor(k int, p, q, target float64, minM, maxM int) int {
	if !(p > 0) {
		return minM
	}
	for m := minM; m < maxM; m++ {
		if burstGroupLossProb(k, m, p, q) < target {
			return m
		}
	}
	return maxM
}
