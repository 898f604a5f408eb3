package netem

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxTracePeriod bounds a trace's period (and so every opportunity offset),
// keeping the time arithmetic far from overflow.
const MaxTracePeriod = 100 * time.Hour

// DefaultTraceBytes is the size of one delivery opportunity when
// [Trace.BytesPerOpportunity] is 0: one 1500-byte packet, as in mahimahi.
const DefaultTraceBytes = 1500

// Trace is a trace-driven bottleneck: at each offset in Opportunities (from
// the start of a period) up to BytesPerOpportunity queued bytes leave the
// queue; a packet larger than what is left waits for further opportunities.
// Credit unused when the queue is empty is lost. The list repeats every
// Period, counted from the pipe's creation. The zero value is invalid; build one with [ParseMahimahi] or by
// hand. A Trace must not be modified after it is put in a Profile.
type Trace struct {
	// Opportunities are offsets from the start of each period, sorted
	// ascending, each in [0, Period]. Repeats mean several opportunities at
	// the same instant.
	Opportunities []time.Duration
	// Period is the repeat interval; 0 means the last opportunity.
	Period time.Duration
	// BytesPerOpportunity is the credit of one opportunity; 0 means
	// DefaultTraceBytes.
	BytesPerOpportunity int
}

// ParseMahimahi reads a mahimahi trace: one integer millisecond timestamp per
// line, each a delivery opportunity for one 1500-byte packet; the trace repeats
// after its last timestamp. Blank lines and lines starting with '#' are skipped.
func ParseMahimahi(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	t := &Trace{}
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 || ms > MaxTracePeriod.Milliseconds() {
			return nil, fmt.Errorf("%w: Trace line %d is not a millisecond timestamp in [0, %d] (%q)",
				ErrInvalidProfile, line, MaxTracePeriod.Milliseconds(), s)
		}
		t.Opportunities = append(t.Opportunities, time.Duration(ms)*time.Millisecond)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netem: reading trace: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// Validate checks the trace and names the offending field.
func (t *Trace) Validate() error {
	if len(t.Opportunities) == 0 {
		return invalid("Trace.Opportunities", "must not be empty")
	}
	if t.BytesPerOpportunity < 0 {
		return invalid("Trace.BytesPerOpportunity", "must not be negative (got %d)", t.BytesPerOpportunity)
	}
	if t.Period < 0 {
		return invalid("Trace.Period", "must not be negative (got %v)", t.Period)
	}
	if !sort.SliceIsSorted(t.Opportunities, func(i, j int) bool { return t.Opportunities[i] < t.Opportunities[j] }) {
		return invalid("Trace.Opportunities", "must be sorted ascending")
	}
	if t.Opportunities[0] < 0 {
		return invalid("Trace.Opportunities", "must not be negative (got %v)", t.Opportunities[0])
	}
	period := t.period()
	if period <= 0 {
		return invalid("Trace.Period", "must be positive (last opportunity is %v)", t.Opportunities[len(t.Opportunities)-1])
	}
	if period > MaxTracePeriod {
		return invalid("Trace.Period", "must be at most %v (got %v)", MaxTracePeriod, period)
	}
	if last := t.Opportunities[len(t.Opportunities)-1]; last > period {
		return invalid("Trace.Opportunities", "must end within Period (last %v > %v)", last, period)
	}
	return nil
}

// Rate returns the trace's average rate in bits/s.
func (t *Trace) Rate() float64 {
	return float64(len(t.Opportunities)*t.bytes()*8) / t.period().Seconds()
}

func (t *Trace) period() time.Duration {
	if t.Period > 0 {
		return t.Period
	}
	return t.Opportunities[len(t.Opportunities)-1]
}

func (t *Trace) bytes() int {
	if t.BytesPerOpportunity > 0 {
		return t.BytesPerOpportunity
	}
	return DefaultTraceBytes
}

// traceCursor points at one opportunity: index i of cycle c.
type traceCursor struct {
	c      int64
	i      int
	credit int // bytes left in this opportunity
	valid  bool
}

// at is the cursor's time in ns relative to base.
func (tc *traceCursor) at(t *Trace, base int64) int64 {
	return base + tc.c*int64(t.period()) + int64(t.Opportunities[tc.i])
}

// seek moves the cursor to the first opportunity at or after now, with full
// credit.
func (tc *traceCursor) seek(t *Trace, base, now int64) {
	p := int64(t.period())
	rel := now - base
	if rel < 0 {
		rel = 0
	}
	c := rel / p
	off := time.Duration(rel - c*p)
	i := sort.Search(len(t.Opportunities), func(k int) bool { return t.Opportunities[k] >= off })
	if i == len(t.Opportunities) {
		c, i = c+1, 0
	}
	*tc = traceCursor{c: c, i: i, credit: t.bytes(), valid: true}
}

func (tc *traceCursor) next(t *Trace) {
	tc.i++
	if tc.i == len(t.Opportunities) {
		tc.i = 0
		tc.c++
	}
	tc.credit = t.bytes()
}

// consume serialises size bytes starting no earlier than start and returns the
// time (relative ns) of the opportunity that completes them.
func (tc *traceCursor) consume(t *Trace, base, start int64, size int) int64 {
	if !tc.valid || tc.at(t, base) < start {
		tc.seek(t, base, start)
	}
	need := size
	for {
		if tc.credit > 0 {
			take := min(need, tc.credit)
			tc.credit -= take
			need -= take
			if need == 0 {
				return tc.at(t, base)
			}
		}
		tc.next(t)
	}
}
