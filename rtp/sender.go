package rtp

import (
	"fmt"
	"time"

	pionrtcp "github.com/pion/rtcp"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rtcp"
)

// SenderConfig configures a Sender. Zero fields take the defaults noted.
type SenderConfig struct {
	SSRC           uint32 // media SSRC
	RTXSSRC        uint32 // retransmission SSRC (default SSRC+1)
	PayloadType    uint8  // media payload type (default 96)
	RTXPayloadType uint8  // RTX payload type (default PayloadType+1)
	ClockRate      uint32 // RTP clock in Hz (default 90000)
	MTU            int    // largest RTP packet in bytes, RTX included (default 1200)
	ExtensionID    uint8  // descriptor extension ID (default 1)
	FirstSeq       uint16 // first media sequence number
	FirstTimestamp uint32 // RTP timestamp of media time 0

	// Budget sets the sending rate (default FixedRate(2 Mbit/s)).
	Budget Budget
	// MaxDelay is the deadline given to frames without one, counted from
	// when they are queued (0: such frames have no deadline).
	MaxDelay time.Duration
	// RetransmitMinPriority is the lowest priority whose packets are
	// retransmitted on NACK (default PriorityP: I and P yes, B no).
	RetransmitMinPriority uint8
	// DisableDrop sends every frame whatever its deadline (the reliable
	// baseline); RetransmitIgnoresDeadline resends NACKed packets even if
	// they can no longer arrive in time.
	DisableDrop               bool
	RetransmitIgnoresDeadline bool
	// DuplicateRTXMinPriority: NACKed packets of frames at or above this
	// priority are retransmitted twice, so one lost retransmission does
	// not cost the frame, and three times when their deadline leaves no
	// time for another NACK round (see OnNACK) (default PriorityP; 255
	// limits it to I frames).
	DuplicateRTXMinPriority uint8
	// TailProbeMinPriority: after the last packet of a frame at or above
	// this priority, one RTX copy of it follows at once, so a lost tail is
	// repaired without waiting for the next frame to reveal the gap
	// (default PriorityP).
	TailProbeMinPriority uint8
	// NoTailProbe and NoDuplicateRTX turn those two protections off.
	NoTailProbe, NoDuplicateRTX bool
	// FECPolicy adds Reed-Solomon parity packets to frames by priority
	// (see UnequalFEC; nil: no FEC). Frames with parity get no tail probe.
	FECPolicy FECPolicy
	// FECSSRC and FECPayloadType name the parity stream (defaults SSRC+2,
	// PayloadType+2).
	FECSSRC        uint32
	FECPayloadType uint8
	// InitialRTT is assumed until an RTCP report gives a measurement
	// (default 100 ms).
	InitialRTT time.Duration
	// MaxQueueBytes bounds the queued RTP bytes; Enqueue fails with
	// ErrQueueFull beyond it (default 8 MiB).
	MaxQueueBytes int
	// HistoryPackets is how many sent packets are kept for retransmission
	// (default 4096).
	HistoryPackets int
}

func (c *SenderConfig) setDefaults() {
	if c.RTXSSRC == 0 {
		c.RTXSSRC = c.SSRC + 1
	}
	if c.PayloadType == 0 {
		c.PayloadType = 96
	}
	if c.RTXPayloadType == 0 {
		c.RTXPayloadType = c.PayloadType + 1
	}
	if c.ClockRate == 0 {
		c.ClockRate = 90000
	}
	if c.FECSSRC == 0 {
		c.FECSSRC = c.SSRC + 2
	}
	if c.FECPayloadType == 0 {
		c.FECPayloadType = c.PayloadType + 2
	}
	if c.MTU == 0 {
		c.MTU = 1200
	}
	if c.ExtensionID == 0 {
		c.ExtensionID = DefaultExtensionID
	}
	if c.Budget == nil {
		c.Budget = FixedRate(2 * congestion.MbitPerSecond)
	}
	if c.RetransmitMinPriority == 0 {
		c.RetransmitMinPriority = PriorityP
	}
	if c.DuplicateRTXMinPriority == 0 {
		c.DuplicateRTXMinPriority = PriorityP
	}
	if c.TailProbeMinPriority == 0 {
		c.TailProbeMinPriority = PriorityP
	}
	if c.InitialRTT == 0 {
		c.InitialRTT = 100 * time.Millisecond
	}
	if c.MaxQueueBytes == 0 {
		c.MaxQueueBytes = 8 << 20
	}
	if c.HistoryPackets == 0 {
		c.HistoryPackets = 4096
	}
}

// KindStats counts one kind's frames at the sender.
type KindStats struct {
	Queued            uint64
	Sent              uint64 // first packet left
	DroppedBudget     uint64
	DroppedDependency uint64
	DroppedExpired    uint64
}

// SenderStats are the Sender's counters. Kinds is indexed by Kind.
type SenderStats struct {
	Kinds                 [4]KindStats
	Packets               uint64 // media packets sent (first transmissions)
	Bytes                 uint64
	Retransmitted         uint64 // RTX packets sent (tail probes included)
	TailProbes            uint64
	FECPackets            uint64 // parity packets sent
	RetransmitRefused     uint64 // NACKed packets not resent: too late or no longer held
	RetransmitLowPriority uint64 // NACKed packets not resent: priority too low
	NACKsEarly            uint64 // NACKed packets not resent: asked again within a round trip of the last retransmission
	SpareRTX              uint64 // extra copies queued (DuplicateRTXMinPriority)
	NACKed                uint64
	KeyFrameRequests      uint64
	ReceiverLoss          float64 // last reported fraction lost
	ReceiverJitter        time.Duration
	ReceiverCumulative    int32
}

func (s *SenderStats) kind(k Kind) *KindStats { return &s.Kinds[min(int(k), len(s.Kinds)-1)] }

// Sender turns frames into paced RTP packets, dropping what cannot make its
// deadline in priority order and answering NACKs with RTX retransmissions.
// Create with NewSender. It is a pure state machine (no clock, no I/O); not
// safe for concurrent use.
type Sender struct {
	cfg  SenderConfig
	pkz  *Packetizer
	fec  *fecEncoder // nil without FECPolicy
	hist history

	nextID      FrameID
	states      []frameState
	queue       []*queuedFrame
	queuedBytes int
	wireFrame   uint16

	rtxQueue  []rtxItem // retransmissions due now: first copies (FIFO), then spares
	rtxLater  []uint16  // spare copies and tail probes, after the frame in progress
	rtxBytes  int       // both queues
	rtxFirstB int       // rtxQueue only
	rtxSeq    uint16

	tokens     float64 // bytes
	lastRefill time.Time

	srtt    time.Duration
	haveRTT bool

	lastTS      time.Duration
	lastTSWall  time.Time
	keyFrameReq bool
	stats       SenderStats
}

// NewSender returns a Sender for cfg.
func NewSender(cfg SenderConfig) (*Sender, error) {
	cfg.setDefaults()
	pkz, err := NewPacketizer(cfg.SSRC, cfg.PayloadType, cfg.MTU, cfg.ExtensionID, cfg.FirstSeq)
	if err != nil {
		return nil, err
	}
	if cfg.RTXPayloadType > 127 || cfg.RTXPayloadType == cfg.PayloadType {
		return nil, fmt.Errorf("%w: RTX payload type %d", ErrConfig, cfg.RTXPayloadType)
	}
	s := &Sender{cfg: cfg, pkz: pkz, hist: newHistory(cfg.HistoryPackets),
		states: make([]frameState, frameStateRing), srtt: cfg.InitialRTT}
	if cfg.FECPolicy != nil {
		if cfg.FECPayloadType > 127 || cfg.FECPayloadType == cfg.PayloadType || cfg.FECPayloadType == cfg.RTXPayloadType {
			return nil, fmt.Errorf("%w: FEC payload type %d", ErrConfig, cfg.FECPayloadType)
		}
		if s.fec, err = newFECEncoder(cfg.FECSSRC, cfg.FECPayloadType, cfg.ExtensionID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Config returns the configuration with defaults applied.
func (s *Sender) Config() SenderConfig { return s.cfg }

// RTT returns the round trip measured from RTCP reports (InitialRTT until
// the first one).
func (s *Sender) RTT() time.Duration { return s.srtt }

// Stats returns a copy of the counters.
func (s *Sender) Stats() SenderStats { return s.stats }

// QueuedBytes returns the RTP bytes waiting to be sent (RTX included).
func (s *Sender) QueuedBytes() int { return s.queuedBytes + s.rtxBytes }

// Enqueue queues frame f at now and returns its FrameID. A frame whose
// reference was dropped is dropped at once (and reported as such in Stats);
// its ID is still returned so later frames may name it.
func (s *Sender) Enqueue(now time.Time, f Frame) (FrameID, error) {
	if len(f.Payload) == 0 {
		return 0, fmt.Errorf("%w: empty payload", ErrFrame)
	}
	if f.DependsOn != 0 && f.DependsOn > s.nextID {
		return 0, fmt.Errorf("%w: depends on frame %d, newest is %d", ErrFrame, f.DependsOn, s.nextID)
	}
	if n := s.pkz.PacketCount(len(f.Payload)); n > 0xFFFF {
		return 0, fmt.Errorf("%w: payload of %d bytes needs %d packets (max 65535)", ErrFrame, len(f.Payload), n)
	}
	if size := s.pkz.WireSize(len(f.Payload)); s.queuedBytes+size > s.cfg.MaxQueueBytes {
		return 0, fmt.Errorf("%w: %d bytes queued + %d > %d", ErrQueueFull, s.queuedBytes, size, s.cfg.MaxQueueBytes)
	}
	s.nextID++
	q := &queuedFrame{id: s.nextID, frame: f, priority: f.EffectivePriority(), deadline: f.Deadline,
		queuedAt: now, wireSize: s.pkz.WireSize(len(f.Payload))}
	if s.fec != nil {
		q.parity = parityCount(s.cfg.FECPolicy, q.priority, s.pkz.PacketCount(len(f.Payload)))
		q.wireSize += parityWireSize(len(f.Payload), s.pkz.maxPayload, q.parity)
	}
	if q.deadline.IsZero() && s.cfg.MaxDelay > 0 {
		q.deadline = now.Add(s.cfg.MaxDelay)
	}
	s.stats.kind(f.Kind).Queued++
	s.lastTS, s.lastTSWall = f.Timestamp, now
	s.queue = append(s.queue, q)
	s.queuedBytes += q.wireSize
	if f.DependsOn != 0 && s.isDropped(f.DependsOn) {
		s.dropAt(len(s.queue)-1, DropDependency)
		return q.id, nil
	}
	s.settleDrops(now, s.srtt/2)
	return q.id, nil
}

func (s *Sender) refill(now time.Time) {
	rate := float64(s.cfg.Budget.Rate(now)) / 8
	if !s.lastRefill.IsZero() && now.After(s.lastRefill) {
		s.tokens += rate * now.Sub(s.lastRefill).Seconds()
	}
	s.lastRefill = now
	burst := max(float64(s.cfg.MTU), rate*0.005)
	if s.tokens > burst {
		s.tokens = burst
	}
}

// NextSendTime returns when Poll may next produce a packet: the zero time
// if nothing is queued, now or earlier if a packet may leave at once.
func (s *Sender) NextSendTime(now time.Time) time.Time {
	if len(s.queue) == 0 && len(s.rtxQueue) == 0 && len(s.rtxLater) == 0 {
		return time.Time{}
	}
	s.refill(now)
	if s.tokens >= 0 {
		return now
	}
	rate := float64(s.cfg.Budget.Rate(now)) / 8
	if rate <= 0 {
		return now.Add(time.Second)
	}
	return now.Add(time.Duration(-s.tokens/rate*float64(time.Second)) + 1)
}

// Poll returns the next packet to send at now, appended to dst, or false if
// the budget or an empty queue says wait (see NextSendTime).
// Retransmissions go first, then frames in order; spare RTX copies and tail
// probes go after the frame in progress (they only insure against a lost
// copy, while every packet of that frame still needs time for its own
// repair), before the next frame.
func (s *Sender) Poll(now time.Time, dst []byte) ([]byte, bool) {
	s.refill(now)
	if s.tokens < 0 {
		return dst, false
	}
	owd := s.srtt / 2
	for len(s.rtxQueue) > 0 || (len(s.rtxLater) > 0 && (len(s.queue) == 0 || !s.queue[0].started)) {
		var it rtxItem
		urgent := len(s.rtxQueue) > 0
		if urgent {
			it, s.rtxQueue = s.rtxQueue[0], s.rtxQueue[1:]
		} else {
			it, s.rtxLater = rtxItem{seq: s.rtxLater[0], spare: true}, s.rtxLater[1:]
		}
		seq := it.seq
		e := s.hist.get(seq)
		if e == nil {
			continue
		}
		s.rtxBytes -= len(e.pkt) + rtxOverhead
		if urgent {
			s.rtxFirstB -= len(e.pkt) + rtxOverhead
		}
		if !s.cfg.RetransmitIgnoresDeadline && !e.deadline.IsZero() && now.Add(owd).After(e.deadline) {
			s.stats.RetransmitRefused++
			continue
		}
		out, err := AppendRTX(dst, e.pkt, s.cfg.RTXPayloadType, s.cfg.RTXSSRC, s.rtxSeq)
		if err != nil {
			continue
		}
		s.rtxSeq++
		if !it.spare || e.lastRTX.IsZero() {
			e.lastRTX = now // a NACK answer or a tail probe, not a spare copy
		}
		e.resent++
		s.stats.Retransmitted++
		s.tokens -= float64(len(out) - len(dst))
		return out, true
	}
	s.settleDrops(now, owd)
	if len(s.queue) == 0 {
		return dst, false
	}
	f := s.queue[0]
	if !f.started {
		s.startFrame(f)
	}
	from := 0
	if f.next > 0 {
		from = f.ends[f.next-1]
	}
	pkt := f.pkts[from:f.ends[f.next]]
	parity := f.next >= f.nData
	f.next++
	f.sentB += len(pkt)
	s.queuedBytes -= len(pkt)
	if parity {
		s.stats.FECPackets++
	} else {
		s.hist.put(sentPacket{valid: true, seq: seqOf(pkt), pkt: pkt, priority: f.priority, deadline: f.deadline, lastSent: now})
		s.stats.Packets++
		s.stats.Bytes += uint64(len(pkt))
	}
	if f.next == f.nData && f.nData == len(f.ends) && !s.cfg.NoTailProbe && f.priority >= s.cfg.TailProbeMinPriority {
		// No parity follows: probe the tail with an RTX copy.
		s.rtxLater = append(s.rtxLater, seqOf(pkt))
		s.rtxBytes += len(pkt) + rtxOverhead
		s.stats.TailProbes++
	}
	if f.next == len(f.ends) {
		s.queue = s.queue[1:]
	}
	s.tokens -= float64(len(pkt))
	return append(dst, pkt...), true
}

func seqOf(pkt []byte) uint16 { return uint16(pkt[2])<<8 | uint16(pkt[3]) }

// startFrame assigns the wire frame number and packetises f.
func (s *Sender) startFrame(f *queuedFrame) {
	f.started = true
	d := Descriptor{Frame: s.wireFrame, Kind: f.frame.Kind, Priority: f.priority}
	if f.frame.DependsOn != 0 {
		if st, ok := s.state(f.frame.DependsOn); ok && st.sent {
			d.RefDist = s.wireFrame - st.wire
		}
	}
	s.states[int(f.id)%frameStateRing] = frameState{id: f.id, sent: true, wire: s.wireFrame}
	s.wireFrame++
	s.stats.kind(f.frame.Kind).Sent++
	ts := s.cfg.FirstTimestamp + mediaToRTP(f.frame.Timestamp, s.cfg.ClockRate)
	f.pkts, f.ends = s.pkz.AppendFrame(make([]byte, 0, f.wireSize), make([]int, 0, s.pkz.PacketCount(len(f.frame.Payload))+f.parity), d, ts, f.frame.Payload)
	f.nData = len(f.ends)
	if f.parity > 0 {
		var err error
		f.pkts, f.ends, err = s.fec.appendParity(f.pkts, f.ends, d, ts, f.frame.Payload, s.pkz.maxPayload, f.parity)
		if err != nil { // cannot happen for valid sizes; send unprotected
			f.ends = f.ends[:f.nData]
			f.pkts = f.pkts[:f.ends[f.nData-1]]
			s.queuedBytes -= parityWireSize(len(f.frame.Payload), s.pkz.maxPayload, f.parity)
			f.wireSize -= parityWireSize(len(f.frame.Payload), s.pkz.maxPayload, f.parity)
		}
	}
	f.frame.Payload = nil
}

// OnNACK queues retransmissions of the media packets seqs asked for at now,
// for those whose frame priority warrants it, that can still arrive before
// their deadline and were not resent within the last round trip: such a
// NACK left the receiver before the retransmission could reach it (a quick
// repeat, or a retry sent while the repair was still queued), and
// answering it would only add load where the path is already slow.
//
// Packets at or above DuplicateRTXMinPriority get a spare copy, sent after
// the frame in progress. When the repair's arrival plus a round trip and a
// half (the receiver's retry timer, its NACK and our answer) passes the
// deadline, no later round can make up for a lost repair: then two spares
// follow the first copy at once.
func (s *Sender) OnNACK(now time.Time, seqs []uint16) {
	owd := s.srtt / 2
	rate := float64(s.cfg.Budget.Rate(now)) / 8
	for _, seq := range seqs {
		s.stats.NACKed++
		e := s.hist.get(seq)
		switch {
		case e == nil:
			s.stats.RetransmitRefused++
			continue
		case e.priority < s.cfg.RetransmitMinPriority:
			s.stats.RetransmitLowPriority++
			continue
		case !e.lastRTX.IsZero() && now.Sub(e.lastRTX) < s.srtt:
			s.stats.NACKsEarly++
			continue // sent before our last retransmission could arrive
		}
		lastChance := false // without a deadline rounds go on
		if !e.deadline.IsZero() {
			wait := time.Duration(0)
			if rate > 0 {
				wait = time.Duration(float64(s.rtxFirstB+len(e.pkt)) / rate * float64(time.Second))
			}
			arrive := now.Add(wait + owd)
			if !s.cfg.RetransmitIgnoresDeadline && arrive.After(e.deadline) {
				s.stats.RetransmitRefused++
				continue
			}
			lastChance = arrive.Add(s.srtt + s.srtt/2).After(e.deadline)
		}
		e.lastRTX = now // reserve; Poll stamps the real send time
		s.queueRTX(rtxItem{seq: seq}, len(e.pkt))
		switch {
		case s.cfg.NoDuplicateRTX || e.priority < s.cfg.DuplicateRTXMinPriority:
		case lastChance:
			s.queueRTX(rtxItem{seq: seq, spare: true}, len(e.pkt))
			s.queueRTX(rtxItem{seq: seq, spare: true}, len(e.pkt))
			s.stats.SpareRTX += 2
		default:
			s.rtxLater = append(s.rtxLater, seq)
			s.rtxBytes += len(e.pkt) + rtxOverhead
			s.stats.SpareRTX++
		}
	}
}

// rtxItem is a queued retransmission; a spare is an extra copy (it does not
// restart the early-NACK window).
type rtxItem struct {
	seq   uint16
	spare bool
}

// queueRTX appends it to rtxQueue, a first copy ahead of queued spares
// (another packet's first copy is worth more than a third copy).
func (s *Sender) queueRTX(it rtxItem, pktLen int) {
	i := len(s.rtxQueue)
	for !it.spare && i > 0 && s.rtxQueue[i-1].spare {
		i--
	}
	s.rtxQueue = append(s.rtxQueue, rtxItem{})
	copy(s.rtxQueue[i+1:], s.rtxQueue[i:])
	s.rtxQueue[i] = it
	s.rtxBytes += pktLen + rtxOverhead
	s.rtxFirstB += pktLen + rtxOverhead
}

// OnReceptionReport takes an RTCP report block about our media SSRC that
// arrived at now: it updates the round trip (RFC 3550 LSR/DLSR) and feeds
// the budget.
func (s *Sender) OnReceptionReport(now time.Time, rr pionrtcp.ReceptionReport) {
	if rr.SSRC != s.cfg.SSRC {
		return
	}
	rtt, ok := rtcp.RoundTripTime(now, rr)
	if ok {
		if !s.haveRTT {
			s.srtt, s.haveRTT = rtt, true
		} else {
			s.srtt = (7*s.srtt + rtt) / 8
		}
	} else {
		rtt = 0
	}
	loss := float64(rr.FractionLost) / 256
	s.stats.ReceiverLoss = loss
	s.stats.ReceiverCumulative = rtcp.TotalLostSigned(rr)
	s.stats.ReceiverJitter = time.Duration(float64(rr.Jitter) / float64(s.cfg.ClockRate) * float64(time.Second))
	s.cfg.Budget.OnReceiverReport(now, loss, rtt)
}

// OnPLI records a key-frame request (RFC 4585 PLI) from the receiver.
func (s *Sender) OnPLI() {
	s.keyFrameReq = true
	s.stats.KeyFrameRequests++
}

// TakeKeyFrameRequest reports (and clears) a pending key-frame request; the
// application should make its next frame an I frame.
func (s *Sender) TakeKeyFrameRequest() bool {
	r := s.keyFrameReq
	s.keyFrameReq = false
	return r
}

// SenderInfo returns the SR sender fields at now.
func (s *Sender) SenderInfo(now time.Time) rtcp.SenderInfo {
	media := s.lastTS + now.Sub(s.lastTSWall)
	if s.lastTSWall.IsZero() {
		media = 0
	}
	return rtcp.SenderInfo{
		SSRC:        s.cfg.SSRC,
		RTPTime:     s.cfg.FirstTimestamp + mediaToRTP(media, s.cfg.ClockRate),
		PacketCount: uint32(s.stats.Packets),
		OctetCount:  uint32(s.stats.Bytes - s.stats.Packets*headerOverhead),
	}
}

// mediaToRTP converts a media time to RTP clock ticks (mod 2^32) without
// overflowing for long streams.
func mediaToRTP(d time.Duration, clock uint32) uint32 {
	secs := d / time.Second
	rem := d % time.Second
	return uint32(int64(secs)*int64(clock) + int64(rem)*int64(clock)/int64(time.Second))
}
