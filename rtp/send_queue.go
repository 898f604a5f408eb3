package rtp

import (
	"time"
)

// queuedFrame is a frame waiting in (or partly through) the send queue.
type queuedFrame struct {
	id       FrameID
	frame    Frame
	priority uint8
	deadline time.Time // zero: none
	queuedAt time.Time
	wireSize int // RTP bytes for the whole frame

	started bool
	pkts    []byte // packets back to back once started
	ends    []int
	next    int // index of the next packet to send
	nData   int // media packets; those after are parity
	parity  int // parity packets planned
	sentB   int // wire bytes already sent
}

func (q *queuedFrame) remaining() int { return q.wireSize - q.sentB }

// DropReason says why the sender dropped a frame.
type DropReason uint8

// Drop reasons.
const (
	DropNone       DropReason = iota
	DropBudget                // the rate budget could not carry it before its deadline
	DropDependency            // the frame it references was dropped
	DropExpired               // its deadline passed before it could be sent
)

// frameState remembers, for recent frames, whether they were sent (and
// under which wire frame number) or dropped, so dependents can be resolved.
type frameState struct {
	id      FrameID
	dropped bool
	sent    bool
	wire    uint16
}

const frameStateRing = 4096

// settleDrops enforces deadlines on the queue at now: with the budget's rate
// and the one-way delay owd, it walks the queue in order, predicting when
// each frame's last byte arrives; while some frame would miss its deadline
// it drops the least important unstarted frame at or before it (the oldest
// among equals), never one of priority ≥ PriorityI, and everything that
// depends on a dropped frame. Frames whose deadline has already passed are
// dropped as expired (again never I).
func (s *Sender) settleDrops(now time.Time, owd time.Duration) {
	if s.cfg.DisableDrop {
		return
	}
	rate := float64(s.cfg.Budget.Rate(now)) / 8 // bytes/s
	for {
		start := now
		if s.tokens < 0 && rate > 0 {
			start = start.Add(time.Duration(-s.tokens / rate * float64(time.Second)))
		}
		cum := s.rtxBytes
		victim := -1
		for i, f := range s.queue {
			cum += f.remaining()
			if f.deadline.IsZero() {
				continue
			}
			if !f.started && f.priority < PriorityI && !now.Add(owd).Before(f.deadline) {
				victim = i
				s.dropAt(i, DropExpired)
				break
			}
			var arrive time.Time
			if rate <= 0 {
				arrive = now.Add(24 * time.Hour)
			} else {
				arrive = start.Add(time.Duration(float64(cum)/rate*float64(time.Second)) + owd)
			}
			if !arrive.After(f.deadline) {
				continue
			}
			// Frame i would be late: drop the least important droppable
			// frame in queue[0..i].
			best := -1
			for j := 0; j <= i; j++ {
				g := s.queue[j]
				if g.started || g.priority >= PriorityI {
					continue
				}
				if best < 0 || g.priority < s.queue[best].priority {
					best = j
				}
			}
			if best >= 0 {
				victim = best
				s.dropAt(best, DropBudget)
				break
			}
		}
		if victim < 0 {
			return
		}
	}
}

// dropAt removes queue[i] with reason and then every queued frame that
// (transitively) depends on a dropped frame.
func (s *Sender) dropAt(i int, reason DropReason) {
	f := s.queue[i]
	s.queue = append(s.queue[:i], s.queue[i+1:]...)
	s.markDropped(f, reason)
	for changed := true; changed; {
		changed = false
		for j := 0; j < len(s.queue); j++ {
			g := s.queue[j]
			if g.started || g.frame.DependsOn == 0 || !s.isDropped(g.frame.DependsOn) {
				continue
			}
			s.queue = append(s.queue[:j], s.queue[j+1:]...)
			s.markDropped(g, DropDependency)
			changed = true
			j--
		}
	}
}

func (s *Sender) markDropped(f *queuedFrame, reason DropReason) {
	s.queuedBytes -= f.remaining()
	s.states[int(f.id)%frameStateRing] = frameState{id: f.id, dropped: true}
	ks := s.stats.kind(f.frame.Kind)
	switch reason {
	case DropDependency:
		ks.DroppedDependency++
	case DropExpired:
		ks.DroppedExpired++
	default:
		ks.DroppedBudget++
	}
}

func (s *Sender) state(id FrameID) (frameState, bool) {
	st := s.states[int(id)%frameStateRing]
	return st, st.id == id
}

func (s *Sender) isDropped(id FrameID) bool {
	st, ok := s.state(id)
	return ok && st.dropped
}
