package congestion

// maxFilter tracks the maximum of samples over a sliding window of "time"
// (here: BBR round-trip counts), keeping the best, second best and third
// best samples of successive sub-windows (Kathleen Nichols' algorithm, as in
// Linux lib/win_minmax.c), so a stale maximum expires in O(1) without
// storing every sample. The zero value is an empty filter. Not safe for
// concurrent use.
type maxFilter struct {
	window uint64
	s      [3]maxSample
}

type maxSample struct {
	v Bandwidth
	t uint64
}

// get returns the current windowed maximum (0 if empty).
func (f *maxFilter) get() Bandwidth { return f.s[0].v }

// reset restarts the filter with one sample.
func (f *maxFilter) reset(v Bandwidth, t uint64) {
	f.s = [3]maxSample{{v, t}, {v, t}, {v, t}}
}

// update adds sample v taken at time t and returns the new maximum.
func (f *maxFilter) update(v Bandwidth, t uint64) Bandwidth {
	if v >= f.s[0].v || t-f.s[2].t > f.window {
		f.reset(v, t) // new maximum, or nothing in the window
		return v
	}
	if v >= f.s[1].v {
		f.s[1], f.s[2] = maxSample{v, t}, maxSample{v, t}
	} else if v >= f.s[2].v {
		f.s[2] = maxSample{v, t}
	}
	return f.subwinUpdate(v, t)
}

// subwinUpdate ages the best samples as the window slides.
func (f *maxFilter) subwinUpdate(v Bandwidth, t uint64) Bandwidth {
	dt := t - f.s[0].t
	switch {
	case dt > f.window:
		f.s[0], f.s[1], f.s[2] = f.s[1], f.s[2], maxSample{v, t}
		if t-f.s[0].t > f.window {
			f.s[0], f.s[1], f.s[2] = f.s[1], f.s[2], maxSample{v, t}
		}
	case f.s[1].t == f.s[0].t && dt > f.window/4:
		f.s[1], f.s[2] = maxSample{v, t}, maxSample{v, t}
	case f.s[2].t == f.s[1].t && dt > f.window/2:
		f.s[2] = maxSample{v, t}
	}
	return f.s[0].v
}
