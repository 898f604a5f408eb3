package rtp

import "time"

// The jitter buffer's playout side: frames leave in order at their playout
// time (media time + the fastest transit seen + PlayoutDelay), or are given
// up as lost or undecodable.

func (r *Receiver) playoutAt(f *inFrame) time.Time {
	return r.base.Add(f.media + r.cfg.PlayoutDelay)
}

func (r *Receiver) setStatus(num int64, delivered bool) {
	r.status[num%int64(len(r.status))] = frameStatus{num: num, delivered: delivered, set: true}
}

// decodable reports whether f's reference (if any) was delivered.
func (r *Receiver) decodable(f *inFrame) bool {
	if f.desc.RefDist == 0 {
		return true
	}
	ref := f.num - int64(f.desc.RefDist)
	st := r.status[((ref%int64(len(r.status)))+int64(len(r.status)))%int64(len(r.status))]
	if st.set && st.num == ref {
		return st.delivered
	}
	return ref < r.nextEmit && !st.set // before our start: assume fine
}

// Poll returns the next frame due at now, if any. Call it until it returns
// false; frames given up on along the way are counted in Stats.
func (r *Receiver) Poll(now time.Time) (DeliveredFrame, bool) {
	r.prune(now)
	for r.started {
		f := r.frames[r.nextEmit]
		if f != nil && !f.completedAt.IsZero() {
			playout := r.playoutAt(f)
			if !r.cfg.EmitOnComplete && now.Before(playout) {
				return DeliveredFrame{}, false
			}
			if !r.decodable(f) {
				r.giveUp(now, f, true)
				continue
			}
			delete(r.frames, f.num)
			r.setStatus(f.num, true)
			r.nextEmit++
			r.stats.Kinds[min(int(f.desc.Kind), 3)].Delivered++
			size := 0
			for _, p := range f.parts {
				size += len(p)
			}
			payload := make([]byte, 0, size)
			for _, p := range f.parts {
				payload = append(payload, p...)
			}
			if r.cfg.EmitOnComplete {
				playout = now
			}
			return DeliveredFrame{ID: uint64(f.num), Kind: f.desc.Kind, Priority: f.desc.Priority,
				Timestamp: f.media, Payload: payload, CompletedAt: f.completedAt, PlayoutAt: playout}, true
		}
		if r.cfg.EmitOnComplete {
			return DeliveredFrame{}, false
		}
		deadline, ok := r.missingDeadline(f)
		if !ok || now.Before(deadline) {
			return DeliveredFrame{}, false
		}
		if f == nil {
			f = &inFrame{num: r.nextEmit}
			r.frames[f.num] = f
		}
		r.giveUp(now, f, false)
	}
	return DeliveredFrame{}, false
}

// missingDeadline returns when the frame at nextEmit (f, nil if no packet
// of it arrived) is given up: its own playout time if known, else that of
// the next frame we know of.
func (r *Receiver) missingDeadline(f *inFrame) (time.Time, bool) {
	if f != nil {
		return r.playoutAt(f), true
	}
	var next *inFrame
	for num, g := range r.frames {
		if num > r.nextEmit && !g.gone && (next == nil || num < next.num) {
			next = g
		}
	}
	if next == nil {
		return time.Time{}, false
	}
	return r.playoutAt(next), true
}

func (r *Receiver) giveUp(now time.Time, f *inFrame, undecodable bool) {
	k := &r.stats.Kinds[min(int(f.desc.Kind), 3)]
	if undecodable {
		k.Undecodable++
	} else {
		k.Lost++
	}
	// A lost key frame, or a frame made undecodable by a lost reference,
	// needs a key frame to recover. (A frame lost whole has an unknown
	// kind: if others depend on it they come out undecodable.)
	if undecodable || f.desc.Kind == KindI {
		r.pliDue = true
	}
	f.gone, f.goneAt = true, now
	r.setStatus(f.num, false)
	r.nextEmit++
}

// prune forgets given-up frames after a while.
func (r *Receiver) prune(now time.Time) {
	for num, f := range r.frames {
		if f.gone && now.Sub(f.goneAt) > 2*time.Second {
			delete(r.frames, num)
		}
	}
}

// tsUnwrapper extends 32-bit RTP timestamps and converts them to media time
// from the first timestamp seen.
type tsUnwrapper struct {
	first, last int64
	started     bool
}

func (u *tsUnwrapper) media(ts uint32, clock uint32) time.Duration {
	if !u.started {
		u.started, u.first, u.last = true, int64(ts), int64(ts)
	}
	v := u.last + int64(int32(ts-uint32(u.last)))
	if v > u.last {
		u.last = v
	}
	d := v - u.first
	return time.Duration(d/int64(clock))*time.Second + time.Duration(d%int64(clock))*time.Second/time.Duration(clock)
}
