package netem

import (
	"io"
	"sync"
	"time"

	"github.com/skiffnet/skiff/internal/hrtimer"
)

// Pipe is one impaired direction: packets given to Send come out of the
// deliver function after the link model has dropped, corrupted, duplicated,
// queued and delayed them. One goroutine and one time.Timer per pipe serve a
// timer heap of every packet in flight, so a Pipe works inside
// testing/synctest bubbles (create it inside the bubble); in real time,
// SetPreciseTimer swaps the time.Timer for a high-resolution one. All methods are
// safe for concurrent use. Close stops the goroutine; packets still in
// flight are discarded. There is no useful zero value: use NewPipe.
type Pipe struct {
	mu      sync.Mutex
	m       linkModel
	base    time.Time
	armed   int64 // time the goroutine's timer is set for; -1 = not armed
	closed  bool
	precise bool // time deliveries with an hrtimer (SetPreciseTimer)
	deliver func(pkt []byte, md *meta)
	capture *pcapWriter

	wake      chan struct{}
	done      chan struct{}
	exited    chan struct{}
	closeOnce sync.Once
}

// NewPipe starts a pipe with profile p and a PCG source seeded with seed.
// deliver is called from the pipe's goroutine, one packet at a time in
// release order; pkt is valid only during the call. deliver must not call
// Close on the same pipe.
func NewPipe(p Profile, seed int64, deliver func(pkt []byte)) (*Pipe, error) {
	if deliver == nil {
		return nil, invalid("deliver", "must not be nil")
	}
	return newPipe(p, seed, func(pkt []byte, _ *meta) { deliver(pkt) })
}

func newPipe(p Profile, seed int64, deliver func(pkt []byte, md *meta)) (*Pipe, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pp := &Pipe{
		m:       newLinkModel(p, seed),
		base:    time.Now(),
		armed:   -1,
		deliver: deliver,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	go pp.run()
	return pp, nil
}

func (p *Pipe) now() int64 { return int64(time.Since(p.base)) }

// Send offers a copy of pkt to the link. It never blocks on the link: a
// packet that does not fit the queue is dropped and counted. Send on a
// closed pipe does nothing.
func (p *Pipe) Send(pkt []byte) { p.send(pkt, meta{}) }

func (p *Pipe) send(pkt []byte, md meta) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.m.offer(p.now(), pkt, md)
	p.kickLocked()
	p.mu.Unlock()
}

// kickLocked wakes the goroutine when the earliest event moved before the
// time its timer is armed for.
func (p *Pipe) kickLocked() {
	next, ok := p.m.nextEvent()
	if ok && (p.armed < 0 || next < p.armed) {
		p.armed = next
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// SetProfile changes the profile while the pipe runs. Packets already past
// the bottleneck keep their release times; the packet being serialised
// finishes at the old rate; waiting packets are serialised at the new one,
// or dropped (counted in DroppedDown) when pr.Down is set.
func (p *Pipe) SetProfile(pr Profile) error {
	if err := pr.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.setProfile(p.now(), pr)
	p.kickLocked()
	return nil
}

// Profile returns the current profile.
func (p *Pipe) Profile() Profile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m.prof
}

// Stats returns a snapshot of the counters and the current queue depth.
func (p *Pipe) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.advance(p.now())
	return p.m.snapshot()
}

// DropNth drops the n-th (1-based) packet, counted from now, for which match
// returns true; a nil match matches every packet. Several rules may be
// active; each fires once. match runs under the pipe's lock: it must not
// call the pipe. n < 1 is ignored.
func (p *Pipe) DropNth(n int, match func(pkt []byte) bool) {
	if n < 1 {
		return
	}
	p.mu.Lock()
	p.m.rules = append(p.m.rules, dropRule{n: n, match: match})
	p.mu.Unlock()
}

// SetCapture starts writing every delivered packet to w as a pcap file
// (LINKTYPE_RAW), beginning with the file header; nil stops capturing.
// Packets carried by a Network or Wrap get a synthesised IP+UDP header with
// the datagram's addresses; packets sent with Send are written as they are
// (they should be raw IP packets).
func (p *Pipe) SetCapture(w io.Writer) error {
	var pw *pcapWriter
	if w != nil {
		var err error
		if pw, err = newPcapWriter(w); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.capture = pw
	p.mu.Unlock()
	return nil
}

// Close stops the pipe's goroutine and timer and discards packets in flight.
// It is idempotent and always returns nil.
func (p *Pipe) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.done)
		<-p.exited
	})
	return nil
}

// deliverBatch bounds how many due packets the goroutine takes per lock.
const deliverBatch = 128

// run is the pipe's only goroutine: it delivers due packets in batches and
// sleeps on one timer until the next event or a wake-up from Send.
func (p *Pipe) run() {
	defer close(p.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var hr *hrtimer.Timer // replaces timer after SetPreciseTimer(true)
	var hrC <-chan struct{}
	defer func() {
		if hr != nil {
			hr.Close()
		}
	}()
	batch := make([]packet, 0, deliverBatch)
	for {
		p.mu.Lock()
		for !p.closed {
			now := p.now()
			for len(batch) < deliverBatch {
				pkt, ok := p.m.popDue(now)
				if !ok {
					break
				}
				batch = append(batch, pkt)
			}
			if len(batch) == 0 {
				break
			}
			// Armed "now": Sends need not wake us, we look again before sleeping.
			p.armed = now
			capture := p.capture
			p.mu.Unlock()
			for i := range batch {
				p.deliver(batch[i].buf, &batch[i].meta)
				if capture != nil {
					capture.write(time.Now(), batch[i].buf, &batch[i].meta)
				}
			}
			p.mu.Lock()
			for i := range batch {
				p.m.stats.DeliveredPackets++
				p.m.stats.DeliveredBytes += uint64(len(batch[i].buf))
				p.m.putBuf(batch[i].buf)
				batch[i] = packet{}
			}
			batch = batch[:0]
		}
		if next, ok := p.m.nextEvent(); ok && !p.closed {
			p.armed = next
			d := time.Duration(next - p.now())
			if p.precise != (hr != nil) {
				hr, hrC = p.switchTimer(hr)
			}
			if hr != nil {
				hr.Reset(d)
			} else {
				timer.Reset(d)
			}
		} else {
			p.armed = -1
		}
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-timer.C:
		case <-hrC:
		}
	}
}

// SetPreciseTimer makes the pipe time its deliveries with a
// high-resolution timer (package internal/hrtimer: a Linux timerfd) instead
// of a time.Timer, which fires up to about 1 ms late whenever the whole
// process is idle: a 10 ms delay then averages 10.6-10.7 ms. For real-time
// use only: a pipe inside a testing/synctest bubble must keep the runtime's
// timers, which follow the bubble's fake clock. Where no high-resolution
// timer can be created the pipe keeps its time.Timer.
func (p *Pipe) SetPreciseTimer(on bool) {
	p.mu.Lock()
	p.precise = on
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// switchTimer opens or closes the high-resolution timer to match
// p.precise; the run goroutine owns it. Called with p.mu held.
func (p *Pipe) switchTimer(hr *hrtimer.Timer) (*hrtimer.Timer, <-chan struct{}) {
	if hr != nil {
		hr.Close()
		return nil, nil
	}
	t, err := hrtimer.New()
	if err != nil {
		p.precise = false // keep the time.Timer
		return nil, nil
	}
	return t, t.C
}
