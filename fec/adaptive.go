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
	if n > MaxDataShards+MaxParityShards {
		return 1 // beyond the protocol: not a group
	}
	g := p * (1 - q) / (1 - p) // P(Good -> Bad)
	// good[i], bad[i]: probability of i losses so far, the last packet
	// in that state. Fixed arrays: no allocation (it runs on every ack
	// that settles a repair's fate).
	var buf [4][MaxDataShards + MaxParityShards + 1]float64
	good, bad, ng, nb := buf[0][:n+1], buf[1][:n+1], buf[2][:n+1], buf[3][:n+1]
	good[0], bad[1] = 1-p, p
	for j := 1; j < n; j++ {
		clear(ng)
		clear(nb)
		for i := 0; i <= j; i++ {
			ng[i] += good[i]*(1-g) + bad[i]*(1-q)
			if i+1 <= n {
				nb[i+1] += good[i]*g + bad[i]*q
			}
		}
		good, bad, ng, nb = ng, nb, good, bad
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

// xorBurstLossProb returns the chance that a group of k data packets
// followed by r copies of its XOR parity, sent back to back on a path with
// Gilbert's two-state loss (loss rate p, P(lost | previous lost) q), cannot
// be rebuilt: two or more data packets lost, or one lost and every copy
// with it. floor is the first part alone, which no number of copies
// helps. For k = 1, fail is burstGroupLossProb(1, r, p, q).
func xorBurstLossProb(k, r int, p, q float64) (fail, floor float64) {
	if p <= 0 {
		return 0, 0
	}
	if p >= 1 || q >= 1 {
		return 1, 1
	}
	g := p * (1 - q) / (1 - p) // P(Good -> Bad)
	// st[bad][d][all]: chain state of the last packet, data packets lost
	// (2 meaning two or more), whether every copy so far was lost.
	var st, nx [2][3][2]float64
	st[0][0][1], st[1][1][1] = 1-p, p
	for j := 1; j < k+r; j++ {
		nx = [2][3][2]float64{}
		for b := range 2 {
			toBad := g
			if b == 1 {
				toBad = q
			}
			for d := range 3 {
				for a := range 2 {
					v := st[b][d][a]
					if v == 0 {
						continue
					}
					if j < k { // a data packet
						nx[0][d][a] += v * (1 - toBad)
						nx[1][min(d+1, 2)][a] += v * toBad
					} else { // a copy: received clears "all lost"
						nx[0][d][0] += v * (1 - toBad)
						nx[1][d][a] += v * toBad
					}
				}
			}
		}
		st = nx
	}
	for b := range 2 {
		floor += st[b][2][0] + st[b][2][1]
		fail += st[b][1][1]
	}
	return fail + floor, floor
}

// xorCopiesFor returns how many copies of its parity a sparse XOR group
// of k packets gets: the smallest r in [1, maxR] whose failure chance is
// below target, or, when no r reaches it (two data losses are beyond
// XOR), the smallest r from which more copies would gain less than
// target.
func xorCopiesFor(k int, p, q, target float64, maxR int) int {
	if !(p > 0) {
		return 1
	}
	for r := 1; r < maxR; r++ {
		if f, floor := xorBurstLossProb(k, r, p, q); f < target || f-floor < target {
			return r
		}
	}
	return maxR
}
