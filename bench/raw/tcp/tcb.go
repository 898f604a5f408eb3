package tcp

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// emitFunc sends one segment; payload is valid only during the call. The
// stack fills in the IP header and the checksum.
type emitFunc func(h *Header, payload []byte)

// sentRecord maps the sequence range of one transmission to its
// transmission number (the congestion controller's packet number).
type sentRecord struct {
	seq, end uint32 // [seq, end)
	pn       uint64
	at       time.Time
	retrans  bool // Karn: no RTT sample from this range
	sacked   bool // covered by a SACK block (RFC 2018)
	lost     bool // declared lost (RFC 6675 IsLost, or the RTO): not in the pipe
}

// size returns the sequence space the record covers.
func (r *sentRecord) size() int { return int(r.end - r.seq) }

// inPipe reports whether the record counts in RFC 6675's pipe.
func (r *sentRecord) inPipe() bool { return !r.sacked && !r.lost }

// oooSegment is data received beyond RCV.NXT, held for reassembly.
type oooSegment struct {
	seq  uint32
	data []byte
	fin  bool
}

// ConnStats counts what one connection did. Plain values, copied out.
type ConnStats struct {
	SegmentsSent, SegmentsReceived uint64
	BytesSent, BytesRetransmitted  uint64
	FastRetransmits, Timeouts      uint64
	DupAcksReceived, OutOfOrder    uint64
	SmoothedRTT                    time.Duration
	CongestionWindow               int
}

// tcb is one connection's transmission control block (RFC 9293 §3.3.1):
// the pure state machine. Every method takes the time as an argument; it
// never reads a clock, starts a goroutine or does I/O except through emit.
// It is owned by the Stack's goroutine; only sb and rb (byteRings) are
// shared with the application.
type tcb struct {
	cfg   *Config
	state State
	err   error // why the connection closed (nil: orderly)
	emit  emitFunc
	cc    congestion.Controller

	localPort, remotePort uint16

	// Send sequence space (RFC 9293 §3.3.1).
	iss, sndUna, sndNxt uint32
	sndMax              uint32 // highest sequence sent + 1 (BSD snd_max), for go-back-N after RTO
	sndWnd              uint32 // peer's window in bytes (scaled)
	sndWl1, sndWl2      uint32
	sndShift            uint8 // peer's window scale (RFC 7323)
	mss                 int   // payload bytes per segment we send
	sb                  *byteRing
	finQueued           bool // application closed its write side
	finSent             bool // FIN occupies finSeq
	finSeq              uint32

	// Receive sequence space.
	irs, rcvNxt uint32
	rcvAdv      uint32 // right edge of the window advertised
	rcvShift    uint8  // our window scale
	wsOffered   bool   // we put a window-scale option in our SYN
	rb          *byteRing
	ooo         []oooSegment
	readClosed  bool // application closed: arriving data is discarded

	// Retransmission (RFC 6298) and loss recovery (RFC 5681, RFC 6582).
	rtt        rttEstimator
	rto        time.Duration
	rtoAt      time.Time
	retries    int
	sent       []sentRecord
	pn         uint64
	dupAcks    int
	inRecovery bool
	recover    uint32

	// SACK (RFC 2018) and SACK-based loss recovery (RFC 6675).
	sackOffered bool   // we put SACK-permitted in our SYN
	sackOK      bool   // both sides did: scoreboard mode
	pipe        int    // RFC 6675 pipe: bytes of records inPipe
	lostCount   int    // records marked lost and not yet retransmitted
	lastOOO     uint32 // start of the latest out-of-order arrival (first SACK block)
	deliveredPN uint64 // highest transmission number acked or SACKed

	// Other timers.
	persistAt, delAckAt, keepAliveAt, closeAt time.Time
	kaProbes                                  int
	ackNow                                    bool
	ackPending                                int

	scratch []byte
	txHdr   Header // scratch: segments are built here (no allocation each)
	stats   ConnStats
}

// newTCB returns a closed TCB with buffers sized by cfg. iss is its initial
// send sequence number.
func newTCB(cfg *Config, localPort, remotePort uint16, iss uint32, emit emitFunc) *tcb {
	shift := windowShift(cfg.RecvBuffer)
	return &tcb{
		cfg:        cfg,
		emit:       emit,
		localPort:  localPort,
		remotePort: remotePort,
		iss:        iss,
		sndUna:     iss,
		sndNxt:     iss,
		sndMax:     iss,
		recover:    iss,
		rcvShift:   shift,
		sb:         newByteRing(cfg.SendBuffer),
		rb:         newByteRing(cfg.RecvBuffer + 1<<shift),
		rto:        cfg.InitialRTO,
		mss:        min(cfg.MSS, DefaultMSS),
		scratch:    make([]byte, cfg.MSS),
	}
}

// open starts an active open (RFC 9293 §3.10.1): send SYN, enter SYN-SENT.
func (c *tcb) open(now time.Time) {
	c.state = StateSynSent
	c.wsOffered = true
	c.sackOffered = !c.cfg.DisableSACK
	c.sndNxt = c.iss + 1
	c.sndMax = c.sndNxt
	c.sendSYN(now, false)
}

// listen puts a fresh TCB in LISTEN; the next SYN makes it SYN-RECEIVED.
func (c *tcb) listen() { c.state = StateListen }

// sendSYN transmits our SYN (or SYN-ACK) and arms the retransmission timer.
func (c *tcb) sendSYN(now time.Time, ack bool) {
	h := &c.txHdr
	*h = Header{Seq: c.iss, Flags: FlagSYN, Window: uint16(min(c.cfg.RecvBuffer, 65535))}
	h.Options.MSS = uint16(c.cfg.MSS)
	if c.wsOffered {
		h.Options.HasWindowScale = true
		h.Options.WindowScale = c.rcvShift
	}
	h.Options.SACKPermitted = c.sackOffered
	if ack {
		h.Flags |= FlagACK
		h.Ack = c.rcvNxt
		c.rcvAdv = c.rcvNxt + uint32(h.Window)
	}
	c.send(h, nil)
	if c.rtoAt.IsZero() {
		c.rtoAt = now.Add(c.rto)
	}
}

// send fills in the ports and emits one segment.
func (c *tcb) send(h *Header, payload []byte) {
	h.SrcPort, h.DstPort = c.localPort, c.remotePort
	c.stats.SegmentsSent++
	c.emit(h, payload)
}

// sendControl emits a segment with no data: an ACK (with the current
// window) or a RST.
func (c *tcb) sendControl(seq uint32, flags Flags) {
	h := &c.txHdr
	*h = Header{Seq: seq, Flags: flags}
	if flags&FlagACK != 0 {
		h.Ack = c.rcvNxt
		h.Window = c.windowField()
		c.fillSACK(&h.Options, 40)
	}
	c.send(h, nil)
}

// sendACK emits a pure ACK now and clears the pending-ACK state. Its
// sequence number is SND.MAX, not SND.NXT: after a go-back-N rewind the
// peer has already received up to SND.MAX and would find an older number
// unacceptable and answer with an ACK of its own (an ACK war), as BSD notes.
func (c *tcb) sendACK() {
	c.sendControl(c.sndMax, FlagACK)
	c.ackNow, c.ackPending, c.delAckAt = false, 0, time.Time{}
}

// windowField computes the window to advertise (the free receive buffer,
// rounded down to the window scale) and moves the right edge rcvAdv, which
// never moves left (RFC 9293 §3.8.6.2.2): data up to an edge advertised
// earlier is still accepted even when rounding makes the new field's edge
// look a little shorter (RFC 7323 §2.4). rcvAdv − RCV.NXT therefore never
// exceeds the free space, so in-order data always fits the buffer.
func (c *tcb) windowField() uint16 {
	win := c.cfg.RecvBuffer - c.rb.Len()
	if c.readClosed {
		win = c.cfg.RecvBuffer
	}
	field := min(max(win, 0)>>c.rcvShift, 65535)
	c.rcvAdv = seqMax(c.rcvAdv, c.rcvNxt+uint32(field)<<c.rcvShift)
	return uint16(field)
}

// closeApp is the application's CLOSE call (RFC 9293 §3.10.4) for the
// write side: queue a FIN after the data. readToo also discards data that
// arrives later (a full Close rather than CloseWrite).
func (c *tcb) closeApp(now time.Time, readToo bool) {
	if readToo {
		c.readClosed = true
		c.rb.close()
	}
	switch c.state {
	case StateListen, StateSynSent:
		c.enterClosed(ErrClosed)
		return
	case StateSynReceived, StateEstablished:
		c.finQueued = true
		c.state = StateFinWait1
	case StateCloseWait:
		c.finQueued = true
		c.state = StateLastAck
	default:
		return
	}
	c.sb.close()
	c.output(now)
}

// abort is the application's ABORT call (RFC 9293 §3.10.5): RST and close.
func (c *tcb) abort(err error) {
	if c.state.synchronized() || c.state == StateSynReceived {
		c.sendControl(c.sndMax, FlagRST|FlagACK)
	}
	c.enterClosed(err)
}

// enterClosed moves to CLOSED, failing the application's buffers with err
// (nil for an orderly close).
func (c *tcb) enterClosed(err error) {
	if c.state == StateClosed && c.err != nil {
		return
	}
	c.state = StateClosed
	if c.err == nil {
		c.err = err
	}
	// The send side fails first: an application that sees Read end (the
	// receive buffer's lock orders the two) must then see Write fail too.
	if err != nil {
		c.sb.fail(err)
		c.rb.fail(err)
	} else {
		c.sb.fail(ErrClosed)
		c.rb.close()
	}
	c.rtoAt, c.persistAt, c.delAckAt, c.keepAliveAt, c.closeAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	c.sent, c.ooo = nil, nil
	c.pipe, c.lostCount = 0, 0
}

// enterTimeWait starts the 2·MSL timer (RFC 9293 §3.10.7.4).
func (c *tcb) enterTimeWait(now time.Time) {
	c.state = StateTimeWait
	c.rtoAt, c.persistAt, c.keepAliveAt = time.Time{}, time.Time{}, time.Time{}
	c.closeAt = now.Add(2 * c.cfg.MSL)
}

// nextDeadline returns the earliest armed timer, or the zero time.
func (c *tcb) nextDeadline() time.Time {
	var d time.Time
	for _, t := range [...]time.Time{c.rtoAt, c.persistAt, c.delAckAt, c.keepAliveAt, c.closeAt} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

// onTimer runs every timer that is due at now.
func (c *tcb) onTimer(now time.Time) {
	due := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	if due(c.closeAt) {
		c.closeAt = time.Time{}
		if c.state == StateTimeWait {
			c.enterClosed(nil)
		} else {
			c.abort(ErrTimeout) // FIN-WAIT-2 timeout
		}
		return
	}
	if due(c.rtoAt) {
		c.onRetransmissionTimeout(now)
		if c.state == StateClosed {
			return
		}
	}
	if due(c.persistAt) {
		c.persistAt = time.Time{}
		c.sendZeroWindowProbe(now)
	}
	if due(c.keepAliveAt) {
		c.onKeepAlive(now)
		if c.state == StateClosed {
			return
		}
	}
	if due(c.delAckAt) {
		c.ackNow = true
	}
	c.output(now)
}

// onKeepAlive sends a keepalive probe (RFC 9293 §3.8.4: SEG.SEQ = SND.NXT-1)
// or aborts after KeepAliveProbes unanswered ones.
func (c *tcb) onKeepAlive(now time.Time) {
	c.keepAliveAt = time.Time{}
	if c.cfg.KeepAlive <= 0 || !c.state.synchronized() || c.state == StateTimeWait {
		return
	}
	if c.sndMax != c.sndUna { // data outstanding: the RTO covers liveness
		c.keepAliveAt = now.Add(c.cfg.KeepAlive)
		return
	}
	if c.kaProbes >= c.cfg.KeepAliveProbes {
		c.abort(ErrTimeout)
		return
	}
	c.kaProbes++
	c.sendControl(c.sndUna-1, FlagACK)
	c.keepAliveAt = now.Add(c.cfg.KeepAliveInterval)
}

// noteReceived restarts the keepalive clock after any acceptable segment.
func (c *tcb) noteReceived(now time.Time) {
	c.kaProbes = 0
	if c.cfg.KeepAlive > 0 && c.state.synchronized() && c.state != StateTimeWait {
		c.keepAliveAt = now.Add(c.cfg.KeepAlive)
	}
}

// Stats returns a copy of the counters.
func (c *tcb) Stats() ConnStats {
	s := c.stats
	s.SmoothedRTT = c.rtt.SmoothedRTT()
	if c.cc != nil {
		s.CongestionWindow = c.cc.CongestionWindow()
	}
	return s
}
