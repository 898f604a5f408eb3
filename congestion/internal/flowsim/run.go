package flowsim

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
)

// Link describes the bottleneck: forward direction rate-limited with a
// drop-tail queue and random loss, reverse direction delay only.
type Link struct {
	Bandwidth  int64         // bits/s
	RTT        time.Duration // base round trip, split evenly
	QueueBytes int           // drop-tail queue (waiting bytes)
	Loss       float64       // random forward loss
	// AckJitter delays each ack by a uniform extra of ±AckJitter without
	// reordering (acks bunch up), like a real-time run loop that reads
	// them late: delivery-rate samples then see compressed ack intervals.
	AckJitter time.Duration
}

// Flow is one bulk sender.
type Flow struct {
	Name       string
	Controller string        // congestion.New name
	Start      time.Duration // since the run began
	// InitialWindowPackets overrides the controller's initial window (for
	// "none", its fixed window); 0 keeps the default.
	InitialWindowPackets int
}

// Scenario is one run.
type Scenario struct {
	Link       Link
	Flows      []Flow
	Duration   time.Duration
	PacketSize int           // default 1200
	Bin        time.Duration // goodput bin, default 1 s
	Seed       int64
	Tracer     func(flow int, e congestion.Event)
	// Changes switch the bottleneck's bandwidth at the given times (since
	// the run began), like bench P5's drop to 10 Mbit/s and back.
	Changes []BandwidthChange
}

// BandwidthChange sets the bottleneck to Bandwidth bits/s at At.
type BandwidthChange struct {
	At        time.Duration
	Bandwidth int64
}

// FlowResult is what one flow achieved.
type FlowResult struct {
	Name        string
	Controller  string
	Bins        []int64 // unique bytes received per bin
	Unique      uint64  // unique packets received
	Dups        uint64
	Sender      SenderStats
	MeanRTT     time.Duration
	MaxRTT      time.Duration
	bin         time.Duration
	packetBytes int
}

// Goodput returns the unique-data rate in bits/s over bins [from, to).
func (f FlowResult) Goodput(from, to time.Duration) float64 {
	a, b := int(from/f.bin), int(to/f.bin)
	var sum int64
	for i := a; i < b && i < len(f.Bins); i++ {
		sum += f.Bins[i]
	}
	if b <= a {
		return 0
	}
	return float64(sum) * 8 / (time.Duration(b-a) * f.bin).Seconds()
}

// LossRate returns declared losses per packet sent.
func (f FlowResult) LossRate() float64 {
	if f.Sender.Sent == 0 {
		return 0
	}
	return float64(f.Sender.DeclaredLost) / float64(f.Sender.Sent)
}

// Result is a run's outcome.
type Result struct {
	Flows    []FlowResult
	Forward  netem.Stats
	Duration time.Duration
}

// QueueLossRate is the share of offered forward packets the queue dropped.
func (r Result) QueueLossRate() float64 {
	if r.Forward.OfferedPackets == 0 {
		return 0
	}
	return float64(r.Forward.DroppedQueue) / float64(r.Forward.OfferedPackets)
}

// Jain returns Jain's fairness index of xs: (Σx)² / (n·Σx²).
func Jain(xs []float64) float64 {
	var s, s2 float64
	for _, x := range xs {
		s += x
		s2 += x * x
	}
	if s2 == 0 {
		return 0
	}
	return s * s / (float64(len(xs)) * s2)
}

type flowState struct {
	snd     *Sender
	rcv     *Receiver
	rtt     RTTEstimator
	timer   *time.Timer
	started bool
	rttSum  time.Duration
	rttN    int64
	rttMax  time.Duration
	buf     []byte
}

// header: flow (2) | packet number (8) | unit (8), padded to PacketSize.
const headerLen = 18

// Run plays the scenario over netem pipes, in real time or, inside a
// testing/synctest bubble, in fake time. Every goroutine and timer it
// starts is stopped before it returns.
func Run(sc Scenario) (Result, error) {
	if sc.PacketSize == 0 {
		sc.PacketSize = 1200
	}
	if sc.Bin == 0 {
		sc.Bin = time.Second
	}
	if sc.PacketSize < headerLen {
		return Result{}, fmt.Errorf("flowsim: PacketSize %d below %d", sc.PacketSize, headerLen)
	}
	var mu sync.Mutex
	done := false
	start := time.Now()
	flows := make([]*flowState, len(sc.Flows))
	var fwd, rev *netem.Pipe
	var err error
	rev, err = netem.NewPipe(netem.Profile{Delay: sc.Link.RTT / 2, Jitter: sc.Link.AckJitter}, sc.Seed+1, func(pkt []byte) {
		if len(pkt) < 10 {
			return
		}
		f := int(binary.BigEndian.Uint16(pkt))
		pn := binary.BigEndian.Uint64(pkt[2:])
		mu.Lock()
		defer mu.Unlock()
		if f >= len(flows) || !flows[f].started {
			return
		}
		fs := flows[f]
		now := time.Now()
		fs.snd.OnAck(now, pn)
		if l := fs.rtt.LatestRTT(); l > 0 {
			fs.rttSum += l
			fs.rttN++
			fs.rttMax = max(fs.rttMax, l)
		}
		pump(fs, fwd, now)
	})
	if err != nil {
		return Result{}, err
	}
	fwd, err = netem.NewPipe(netem.Profile{
		Delay: sc.Link.RTT / 2, Bandwidth: sc.Link.Bandwidth, QueueBytes: sc.Link.QueueBytes, Loss: sc.Link.Loss,
	}, sc.Seed, func(pkt []byte) {
		if len(pkt) < headerLen {
			return
		}
		f := int(binary.BigEndian.Uint16(pkt))
		unit := binary.BigEndian.Uint64(pkt[10:])
		var ack [10]byte
		copy(ack[:], pkt[:10])
		mu.Lock()
		if f < len(flows) {
			flows[f].rcv.OnData(time.Now(), unit)
		}
		mu.Unlock()
		rev.Send(ack[:])
	})
	if err != nil {
		rev.Close()
		return Result{}, err
	}
	mu.Lock() // timers may fire (Start 0) before fs.timer is assigned
	for i, fl := range sc.Flows {
		fs := &flowState{buf: make([]byte, sc.PacketSize)}
		cfg := congestion.Config{MaxDatagramSize: sc.PacketSize, RTT: &fs.rtt, InitialWindowPackets: fl.InitialWindowPackets,
			Seed: uint64(sc.Seed)*1000 + uint64(i) + 1}
		if sc.Tracer != nil {
			cfg.Tracer = func(e congestion.Event) { sc.Tracer(i, e) }
		}
		cc, err := congestion.New(fl.Controller, cfg)
		if err != nil {
			done = true
			for _, fs := range flows[:i] {
				fs.timer.Stop()
			}
			mu.Unlock()
			fwd.Close()
			rev.Close()
			return Result{}, fmt.Errorf("flowsim: flow %d: %w", i, err)
		}
		fs.snd = NewSender(cc, &fs.rtt, sc.PacketSize)
		fs.rcv = NewReceiver(start, sc.Bin, sc.PacketSize)
		binary.BigEndian.PutUint16(fs.buf, uint16(i))
		flows[i] = fs
		fs.timer = time.AfterFunc(fl.Start, func() {
			mu.Lock()
			defer mu.Unlock()
			if done {
				return
			}
			now := time.Now()
			if !fs.started {
				fs.started = true
			} else {
				fs.snd.OnTimer(now)
			}
			pump(fs, fwd, now)
		})
	}
	mu.Unlock()
	var changeTimers []*time.Timer
	for _, c := range sc.Changes {
		prof := fwd.Profile()
		prof.Bandwidth = c.Bandwidth
		changeTimers = append(changeTimers, time.AfterFunc(c.At, func() { _ = fwd.SetProfile(prof) }))
	}
	time.Sleep(sc.Duration)
	for _, t := range changeTimers {
		t.Stop()
	}
	mu.Lock()
	done = true
	for _, fs := range flows {
		fs.timer.Stop()
		fs.started = false
	}
	mu.Unlock()
	fwd.Close()
	rev.Close()

	res := Result{Forward: fwd.Stats(), Duration: sc.Duration}
	for i, fs := range flows {
		fr := FlowResult{
			Name: sc.Flows[i].Name, Controller: sc.Flows[i].Controller, Bins: fs.rcv.Bins,
			Unique: fs.rcv.Unique, Dups: fs.rcv.Dups, Sender: fs.snd.Stats, MaxRTT: fs.rttMax,
			bin: sc.Bin, packetBytes: sc.PacketSize,
		}
		if fs.rttN > 0 {
			fr.MeanRTT = fs.rttSum / time.Duration(fs.rttN)
		}
		res.Flows = append(res.Flows, fr)
	}
	return res, nil
}

// pump sends what the controller allows and arms the flow's timer for the
// next pacing slot, loss-time or RTO deadline. Called with the lock held.
func pump(fs *flowState, fwd *netem.Pipe, now time.Time) {
	if !fs.started {
		return
	}
	var wake time.Time
	for {
		pn, unit, ok, at := fs.snd.TrySend(now)
		if !ok {
			wake = at
			break
		}
		binary.BigEndian.PutUint64(fs.buf[2:], pn)
		binary.BigEndian.PutUint64(fs.buf[10:], unit)
		fwd.Send(fs.buf)
	}
	if d := fs.snd.Deadline(); !d.IsZero() && (wake.IsZero() || d.Before(wake)) {
		wake = d
	}
	if !wake.IsZero() {
		fs.timer.Reset(max(wake.Sub(now), 0))
	}
}
