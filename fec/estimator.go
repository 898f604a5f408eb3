package fec

import (
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// The Strategy's loss estimation. Repair packets are the sample: a rebuilt
// data packet is acknowledged like a received one, so data acks hide the
// losses FEC repaired, while a repair packet is never rebuilt and never
// retransmitted, so its ack or loss declaration is its true fate.
//
// Two estimates come out of it. The loss rate p (an EWMA over 64 repair
// outcomes, and a slow one over 2048) drives Encoder.SetLossRate in
// adaptive mode. The conditional loss q = P(lost | previous lost) comes
// from the packet sent just before each lost repair whose fate shows
// truly (see pairable). Both feed, blended with a bursty prior, the
// repair count of sparse groups (Encoder.SetBurstLoss, sparseLoss).

// Weights of the sparse prior (SparsePriorLoss, SparsePriorBurst), in
// samples: the prior loss rate counts as 64 repair outcomes (about a third
// of a second of 50 Hz messages with four repairs each), the prior burst
// as two predecessor samples, so three predecessors delivered bring q
// from 0.7 to 0.28 and ten to 0.12, while on a P4-like path (q ≈ 2/3) it
// stays where it started.
const (
	sparsePriorLossWeight  = 16
	sparsePriorBurstWeight = 2
)

// repairRec is the fate of one repair packet, for the loss estimate.
type repairRec struct {
	pn    uint64
	state uint8 // 0 in flight, 1 acknowledged, 2 lost
	// pairable: if this repair is lost, the fate of packet pn-1 is an
	// unbiased sample of P(lost | next packet lost) (see pairable).
	pairable bool
}

// pairable reports whether the packet sent just before repair packet pn
// (payload b) shows its true fate when the repair is lost: the previous
// repair packet of the same group (RS parity or an XOR copy), or the data
// packet of a group of one data and one repair packet (a rebuilt data
// packet is acknowledged like a received one, so only a data packet that
// no repair can rebuild counts). By the chain's reversibility
// P(previous lost | this lost) = P(lost | previous lost), the burstiness
// the encoder needs. It also records pn as the last repair sent.
func (s *Strategy) pairable(pn uint64, b []byte) bool {
	var h RepairHeader
	if pn == 0 || len(b) < RepairHeaderSize {
		return false
	}
	if _, err := h.Unmarshal(b[:RepairHeaderSize]); err != nil {
		return false
	}
	sameGroup := s.lastRepairSet && s.lastRepairGroup == h.GroupID
	s.lastRepairGroup, s.lastRepairSet = h.GroupID, true
	if sameGroup {
		return s.lastRepairPN == pn-1
	}
	prev := s.env.History().Get(pn - 1)
	return h.K == 1 && s.enc.lastRepairs == 1 && prev != nil && prev.HasSeq
}

// noteBurst files the predecessors of newly lost pairable repairs and
// counts those whose fate is known (acknowledged: 0, declared lost: 1).
func (s *Strategy) noteBurst(r repairRec) {
	if r.state == 2 && r.pairable && len(s.pairs) < 64 {
		s.pairs = append(s.pairs, r.pn-1)
	}
	h := s.env.History()
	keep := s.pairs[:0]
	for _, pn := range s.pairs {
		p := h.Get(pn)
		switch {
		case p == nil || p.Acked:
			// Pruned: delivered (a lost packet stays in the history for
			// two RTOs, longer than its repair's fate takes to learn).
			s.addPair(0)
		case p.Lost:
			s.addPair(1)
		default:
			keep = append(keep, pn)
		}
	}
	s.pairs = keep
}

// addPair adds one sample with a decay of 1/32.
func (s *Strategy) addPair(x float64) {
	s.lostPairs = s.lostPairs*(1-1.0/32) + x
	s.nPairs = s.nPairs*(1-1.0/32) + 1
}

// sparseLoss returns the loss rate p and conditional loss q sparse groups
// are sized for: measurements blended with the bursty prior. p is the
// slow average with SparsePriorLoss counted as sparsePriorLossWeight
// outcomes (or the fast EWMA when higher, once it has 16 samples: a bad
// spell now); q is the decayed predecessor count with SparsePriorBurst
// counted as sparsePriorBurstWeight samples.
func (s *Strategy) sparseLoss() (p, q float64) {
	n := float64(min(s.samples, 2048))
	p = (sparsePriorLossWeight*SparsePriorLoss + n*s.lossSlow) / (sparsePriorLossWeight + n)
	if s.samples >= 16 {
		p = max(p, s.loss)
	}
	q = (s.lostPairs + sparsePriorBurstWeight*SparsePriorBurst) / (s.nPairs + sparsePriorBurstWeight)
	return p, q
}

// fallbackEnv is the Env the fallback sees: DeclareLost is observed so the
// loss of repair packets feeds the estimates.
type fallbackEnv struct {
	rudp.Env
	s *Strategy
}

// DeclareLost notes lost repair packets and forwards the call.
func (e *fallbackEnv) DeclareLost(now time.Time, p *rudp.SentPacket, retransmit bool) {
	if e.s.track {
		for i := range e.s.repairs {
			if r := &e.s.repairs[i]; r.pn == p.PN && r.state == 0 {
				r.state = 2
			}
		}
	}
	e.Env.DeclareLost(now, p, retransmit)
}

func (s *Strategy) noteAcked() {
	h := s.env.History()
	for i := range s.repairs {
		r := &s.repairs[i]
		if r.state != 0 {
			continue
		}
		if p := h.Get(r.pn); p == nil {
			r.state = 3 // pruned unseen: no sample
		} else if p.Acked {
			r.state = 1
		} else if p.Lost {
			r.state = 2
		}
	}
}

// updateLoss feeds the outcome of each repair packet (acknowledged or
// declared lost) into the estimates, oldest first, and hands them to the
// encoder: SetLossRate in adaptive mode (from 16 samples on), and
// SetBurstLoss for sparse groups.
func (s *Strategy) updateLoss() {
	s.noteAcked()
	n := 0
	for _, r := range s.repairs {
		if r.state == 0 {
			break // still in flight; keep order
		}
		n++
		if r.state == 3 {
			continue
		}
		s.noteBurst(r)
		x := 0.0
		if r.state == 2 {
			x = 1
		}
		s.samples++
		w := 1 / float64(min(s.samples, 64))
		s.loss += w * (x - s.loss)
		s.lossSlow += (x - s.lossSlow) / float64(min(s.samples, 2048))
	}
	if n == 0 {
		return
	}
	s.repairs = append(s.repairs[:0], s.repairs[n:]...)
	if len(s.pairs) > 0 {
		s.noteBurst(repairRec{}) // predecessors decided since
	}
	if s.cfg.Adaptive && s.samples >= 16 {
		s.enc.SetLossRate(s.loss)
	}
	s.enc.SetBurstLoss(s.sparseLoss())
}
