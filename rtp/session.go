package rtp

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"time"

	pionrtcp "github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rtcp"
)

// SessionConfig configures a Session. Conn and Peer are required.
type SessionConfig struct {
	// Conn carries RTP and RTCP multiplexed (RFC 5761). The session owns it
	// and closes it on Close.
	Conn net.PacketConn
	Peer net.Addr
	// Sender and Receiver configure the two halves; every session can
	// send and receive. Receiver.SSRC defaults to Sender.SSRC.
	Sender   SenderConfig
	Receiver ReceiverConfig
	// CNAME goes into every compound RTCP packet (default "skiff").
	CNAME string
	// SessionBandwidth sizes the RTCP share for the report interval
	// (default 1 Mbit/s; RFC 3550 §6.2 with the reduced minimum).
	SessionBandwidth congestion.Bandwidth
	// Seed makes the report-interval randomisation reproducible.
	Seed int64
	// AcceptAnySource takes datagrams from any address; by default those
	// not from Peer are dropped and counted.
	AcceptAnySource bool
	// FrameBuffer is the capacity of the Frames channel (default 64); a
	// frame that finds it full is discarded and counted.
	FrameBuffer int
}

// SessionStats combines the halves' counters with the session's own.
type SessionStats struct {
	Sender           SenderStats
	Receiver         ReceiverStats
	MalformedRTP     uint64
	MalformedRTCP    uint64
	RTCPSent         uint64
	RTCPReceived     uint64
	FramesOverflowed uint64
	ForeignDatagrams uint64 // from an address other than Peer, dropped
	SenderRTT        time.Duration
}

type sendReq struct {
	f   Frame
	res chan sendRes
}

type sendRes struct {
	id  FrameID
	err error
}

// Session runs a Sender and a Receiver over one PacketConn with RTCP
// (reports on the RFC 3550 schedule, immediate NACK and PLI feedback). One
// goroutine owns all state; a second reads the conn. Its methods are safe
// for concurrent use. Create with NewSession; stop with Close.
type Session struct {
	cfg    SessionConfig
	sender *Sender
	recv   *Receiver
	rng    *rand.Rand

	in      chan []byte
	sends   chan sendReq
	statsC  chan chan SessionStats
	frames  chan DeliveredFrame
	keyReqs chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	peer    string        // Peer.String()
	foreign atomic.Uint64 // counted by the reader

	// Loop-owned.
	stats      SessionStats
	nextReport time.Time
	avgRTCP    float64
	sentSince  bool
	initial    bool
	pkt        pionrtp.Packet
	buf        []byte
	nackBuf    []uint16
}

// NewSession validates cfg and starts the session.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.Conn == nil || cfg.Peer == nil {
		return nil, fmt.Errorf("%w: Conn and Peer are required", ErrConfig)
	}
	if cfg.CNAME == "" {
		cfg.CNAME = "skiff"
	}
	if cfg.SessionBandwidth == 0 {
		cfg.SessionBandwidth = congestion.MbitPerSecond
	}
	if cfg.FrameBuffer == 0 {
		cfg.FrameBuffer = 64
	}
	if cfg.Receiver.SSRC == 0 {
		cfg.Receiver.SSRC = cfg.Sender.SSRC
	}
	snd, err := NewSender(cfg.Sender)
	if err != nil {
		return nil, err
	}
	recv := NewReceiver(cfg.Receiver)
	sc, rc := snd.Config(), recv.Config()
	for _, pt := range []uint8{sc.PayloadType, sc.RTXPayloadType, sc.FECPayloadType, rc.PayloadType, rc.RTXPayloadType, rc.FECPayloadType} {
		// RFC 5761 §4: with the marker set, PT 64..95 looks like RTCP 192..223.
		if pt >= 64 && pt <= 95 {
			return nil, fmt.Errorf("%w: payload type %d collides with RTCP when multiplexed (RFC 5761: avoid 64..95)", ErrConfig, pt)
		}
	}
	s := &Session{
		cfg: cfg, sender: snd, recv: recv,
		rng: rand.New(rand.NewSource(cfg.Seed)),
		in:  make(chan []byte, 256), sends: make(chan sendReq), statsC: make(chan chan SessionStats),
		frames: make(chan DeliveredFrame, cfg.FrameBuffer), keyReqs: make(chan struct{}, 1),
		done: make(chan struct{}), initial: true, buf: make([]byte, 0, MaxPacketSize), peer: cfg.Peer.String(),
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.run()
	return s, nil
}

// Send queues a frame for sending and returns its ID.
func (s *Session) Send(f Frame) (FrameID, error) {
	req := sendReq{f: f, res: make(chan sendRes, 1)}
	select {
	case s.sends <- req:
	case <-s.done:
		return 0, ErrClosed
	}
	r := <-req.res
	return r.id, r.err
}

// Frames delivers received frames in order at their playout time. It is
// closed when the session stops.
func (s *Session) Frames() <-chan DeliveredFrame { return s.frames }

// KeyFrameRequests signals (coalesced) that the peer asked for a key frame.
func (s *Session) KeyFrameRequests() <-chan struct{} { return s.keyReqs }

// Stats returns a snapshot of the counters (zero after Close).
func (s *Session) Stats() SessionStats {
	c := make(chan SessionStats, 1)
	select {
	case s.statsC <- c:
		return <-c
	case <-s.done:
		return SessionStats{}
	}
}

// Close stops the session's goroutines and closes the conn.
func (s *Session) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.cfg.Conn.Close()
		s.wg.Wait()
	})
	return err
}

func (s *Session) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, MaxPacketSize+1)
	for {
		n, from, err := s.cfg.Conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
				continue
			}
		}
		if !s.cfg.AcceptAnySource && (from == nil || from.String() != s.peer) {
			s.foreign.Add(1)
			continue
		}
		b := append([]byte(nil), buf[:n]...)
		select {
		case s.in <- b:
		case <-s.done:
			return
		}
	}
}

func (s *Session) run() {
	defer s.wg.Done()
	defer close(s.frames)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	now := time.Now()
	s.nextReport = now.Add(s.interval())
	for {
		s.flush(now)
		wake := s.nextReport
		for _, t := range []time.Time{s.sender.NextSendTime(now), s.recv.NextTimeout(now)} {
			if !t.IsZero() && t.Before(wake) {
				wake = t
			}
		}
		timer.Reset(max(wake.Sub(now), 0))
		select {
		case <-s.done:
			return
		case b := <-s.in:
			now = time.Now()
			s.onDatagram(now, b)
		case req := <-s.sends:
			now = time.Now()
			id, err := s.sender.Enqueue(now, req.f)
			req.res <- sendRes{id, err}
		case c := <-s.statsC:
			now = time.Now()
			c <- s.snapshot()
		case <-timer.C:
			now = time.Now()
		}
	}
}

func (s *Session) snapshot() SessionStats {
	st := s.stats
	st.Sender = s.sender.Stats()
	st.Receiver = s.recv.Stats()
	st.SenderRTT = s.sender.RTT()
	st.ForeignDatagrams = s.foreign.Load()
	return st
}

func (s *Session) write(b []byte) {
	_, _ = s.cfg.Conn.WriteTo(b, s.cfg.Peer) // datagram loss is the network's business
}

// flush does everything due at now: send packets the budget allows, hand
// out due frames, send NACK/PLI feedback and the periodic report.
func (s *Session) flush(now time.Time) {
	for {
		out, ok := s.sender.Poll(now, s.buf[:0])
		if !ok {
			break
		}
		s.write(out)
		s.sentSince = true
	}
	for {
		f, ok := s.recv.Poll(now)
		if !ok {
			break
		}
		select {
		case s.frames <- f:
		default:
			s.stats.FramesOverflowed++
		}
	}
	var fb []pionrtcp.Packet
	if s.nackBuf = s.recv.NACKs(now, s.nackBuf[:0]); len(s.nackBuf) > 0 {
		fb = append(fb, rtcp.BuildNACK(s.cfg.Receiver.SSRC, s.recv.MediaSSRC(), s.nackBuf))
	}
	if s.recv.TakePLI(now) {
		fb = append(fb, rtcp.BuildPLI(s.cfg.Receiver.SSRC, s.recv.MediaSSRC()))
	}
	if len(fb) > 0 {
		s.sendRTCP(fb) // immediate feedback (RFC 4585 §3.5.2), reduced-size
	}
	if !now.Before(s.nextReport) {
		s.sendReport(now)
		s.nextReport = now.Add(s.interval())
	}
}

func (s *Session) interval() time.Duration {
	senders := 0
	if s.sentSince {
		senders = 1
	}
	d := rtcp.TransmissionInterval(rtcp.IntervalParams{
		Members: 2, Senders: senders, WeSent: s.sentSince,
		SessionBandwidth: float64(s.cfg.SessionBandwidth), AvgRTCPSize: s.avgRTCP,
		Initial: s.initial, ReducedMinimum: true,
	}, s.rng)
	s.initial = false
	return d
}

func (s *Session) sendReport(now time.Time) {
	var blocks []pionrtcp.ReceptionReport
	if rr, ok := s.recv.ReceptionReport(now); ok {
		blocks = append(blocks, rr)
	}
	var first pionrtcp.Packet
	if s.sentSince {
		first = rtcp.BuildSenderReport(now, s.sender.SenderInfo(now), blocks)
	} else {
		first = rtcp.BuildReceiverReport(s.cfg.Receiver.SSRC, blocks)
	}
	s.sentSince = false
	s.sendRTCP([]pionrtcp.Packet{first, rtcp.BuildSDES(s.cfg.Sender.SSRC, s.cfg.CNAME)})
}

func (s *Session) sendRTCP(pkts []pionrtcp.Packet) {
	b, err := rtcp.Encode(nil, pkts...)
	if err != nil {
		return
	}
	s.avgRTCP = rtcp.UpdateAvgRTCPSize(s.avgRTCP, len(b)+28) // + UDP/IPv4 headers
	s.stats.RTCPSent++
	s.write(b)
}

func (s *Session) onDatagram(now time.Time, b []byte) {
	if rtcp.IsRTCP(b) {
		pkts, err := rtcp.Decode(b)
		if err != nil {
			s.stats.MalformedRTCP++
			return
		}
		s.stats.RTCPReceived++
		s.avgRTCP = rtcp.UpdateAvgRTCPSize(s.avgRTCP, len(b)+28)
		for _, p := range pkts {
			s.onRTCP(now, p)
		}
		return
	}
	if err := Decode(b, &s.pkt); err != nil {
		s.stats.MalformedRTP++
		return
	}
	if err := s.recv.OnRTP(now, &s.pkt); err != nil {
		s.stats.MalformedRTP++
	}
}

func (s *Session) onRTCP(now time.Time, p pionrtcp.Packet) {
	switch p := p.(type) {
	case *pionrtcp.SenderReport:
		s.recv.OnSenderReport(now, p)
		for _, rr := range p.Reports {
			s.sender.OnReceptionReport(now, rr)
		}
	case *pionrtcp.ReceiverReport:
		for _, rr := range p.Reports {
			s.sender.OnReceptionReport(now, rr)
		}
	case *pionrtcp.TransportLayerNack:
		if p.MediaSSRC == s.cfg.Sender.SSRC {
			s.nackBuf = rtcp.AppendNACKed(s.nackBuf[:0], p)
			s.sender.OnNACK(now, s.nackBuf)
		}
	case *pionrtcp.PictureLossIndication:
		if p.MediaSSRC == s.cfg.Sender.SSRC {
			s.sender.OnPLI()
			select {
			case s.keyReqs <- struct{}{}:
			default:
			}
		}
	}
}
