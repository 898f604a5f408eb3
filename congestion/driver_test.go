package congestion

import (
	"time"
)

const mss = 1000

// fakeRTT is a settable RTTStats.
type fakeRTT struct{ srtt, min, latest time.Duration }

func (f *fakeRTT) SmoothedRTT() time.Duration { return f.srtt }
func (f *fakeRTT) MinRTT() time.Duration      { return f.min }
func (f *fakeRTT) LatestRTT() time.Duration   { return f.latest }

// driver replays send/ack/loss sequences against a controller, keeping
// the flight the way a caller would.
type driver struct {
	c       Controller
	now     time.Time
	nextPN  uint64
	flight  int
	pending []uint64 // sent, not yet acked or lost, in order
}

func newDriver(c Controller) *driver {
	return &driver{c: c, now: time.Unix(1000, 0), nextPN: 1}
}

func (d *driver) advance(dt time.Duration) { d.now = d.now.Add(dt) }

// send sends n full-size packets at the current time.
func (d *driver) send(n int) {
	for range n {
		d.c.OnPacketSent(d.now, d.nextPN, mss, d.flight)
		d.flight += mss
		d.pending = append(d.pending, d.nextPN)
		d.nextPN++
	}
}

// fill sends until the window is full.
func (d *driver) fill() int {
	n := 0
	for d.c.CanSend(d.flight) {
		d.send(1)
		n++
	}
	return n
}

func (d *driver) remove(pn uint64) bool {
	for i, p := range d.pending {
		if p == pn {
			d.pending = append(d.pending[:i], d.pending[i+1:]...)
			return true
		}
	}
	return false
}

// ack acknowledges pn.
func (d *driver) ack(pn uint64) {
	if !d.remove(pn) {
		return
	}
	d.c.OnPacketAcked(d.now, pn, mss, d.flight)
	d.flight -= mss
}

// ackAll acknowledges every pending packet in order.
func (d *driver) ackAll() {
	for len(d.pending) > 0 {
		d.ack(d.pending[0])
	}
}

// lose declares pn lost.
func (d *driver) lose(pn uint64) {
	if !d.remove(pn) {
		return
	}
	d.c.OnCongestionEvent(d.now, pn, mss, d.flight)
	d.flight -= mss
}

// round fills the window, waits rtt and acks everything; returns the
// number of packets sent.
func (d *driver) round(rtt time.Duration) int {
	n := d.fill()
	d.advance(rtt)
	d.ackAll()
	return n
}
