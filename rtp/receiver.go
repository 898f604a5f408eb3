package rtp

import (
	"fmt"
	"time"

	pionrtcp "github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"

	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/rtcp"
)

// ReceiverConfig configures a Receiver. Zero fields take the defaults noted.
type ReceiverConfig struct {
	SSRC           uint32 // our SSRC, the sender of our RTCP
	MediaSSRC      uint32 // 0: the first media packet's SSRC
	PayloadType    uint8  // default 96
	RTXPayloadType uint8  // default PayloadType+1
	FECPayloadType uint8  // default PayloadType+2
	ClockRate      uint32 // default 90000
	ExtensionID    uint8  // default 1

	// PlayoutDelay is added to a frame's media time, counted from the
	// fastest transit seen, to give its playout time (default 100 ms).
	// A frame not complete (or not decodable) by then is reported lost.
	PlayoutDelay time.Duration
	// EmitOnComplete emits frames in order as soon as they are complete and
	// never gives up on one (the reliable baseline); PlayoutDelay is unused.
	EmitOnComplete bool
	// InitialRTT is used for the NACK schedule until repairs measure it
	// (default 100 ms).
	InitialRTT time.Duration
	// ReorderWait delays the first NACK of a gap (default 0: at once).
	ReorderWait time.Duration
	// NACKRepeats quick repeats of a gap's first NACK follow it NACKRepeat
	// apart, in case feedback is lost (defaults 2 and 10 ms; NACKRepeat < 0:
	// none). The sender answers only the first that arrives.
	NACKRepeat  time.Duration
	NACKRepeats int
	// NACKMinPriority: missing packets known to belong to frames of lower
	// priority are not NACKed; match the sender's RetransmitMinPriority
	// (default PriorityP; 1 NACKs everything).
	NACKMinPriority uint8
	// MaxNACKRounds bounds the NACK rounds per missing packet (default 10;
	// a round is one NACK and its quick repeats).
	MaxNACKRounds int
	// MaxMissing bounds the tracked gaps (default 1000).
	MaxMissing int
	// PLIInterval is the least time between two PLIs (default 200 ms).
	PLIInterval time.Duration
}

func (c *ReceiverConfig) setDefaults() {
	if c.PayloadType == 0 {
		c.PayloadType = 96
	}
	if c.RTXPayloadType == 0 {
		c.RTXPayloadType = c.PayloadType + 1
	}
	if c.FECPayloadType == 0 {
		c.FECPayloadType = c.PayloadType + 2
	}
	if c.ClockRate == 0 {
		c.ClockRate = 90000
	}
	if c.ExtensionID == 0 {
		c.ExtensionID = DefaultExtensionID
	}
	if c.PlayoutDelay == 0 {
		c.PlayoutDelay = 100 * time.Millisecond
	}
	if c.InitialRTT == 0 {
		c.InitialRTT = 100 * time.Millisecond
	}
	if c.NACKRepeat == 0 {
		c.NACKRepeat = 10 * time.Millisecond
	}
	if c.NACKRepeats == 0 {
		c.NACKRepeats = 2
	}
	if c.NACKMinPriority == 0 {
		c.NACKMinPriority = PriorityP
	}
	if c.MaxNACKRounds == 0 {
		c.MaxNACKRounds = 10
	}
	if c.MaxMissing == 0 {
		c.MaxMissing = 1000
	}
	if c.PLIInterval == 0 {
		c.PLIInterval = 200 * time.Millisecond
	}
}

// ReceiverKindStats counts one kind's frames at the receiver. Frames lost
// with no packet received are counted under KindOther (kind unknown).
type ReceiverKindStats struct {
	Delivered   uint64
	Lost        uint64 // incomplete at playout time
	Undecodable uint64 // complete, but the frame it references was lost
	Late        uint64 // completed after being given up as lost
}

// ReceiverStats are the Receiver's counters. Kinds is indexed by Kind.
type ReceiverStats struct {
	Kinds           [4]ReceiverKindStats
	Packets         uint64 // media packets accepted (RTX included)
	FECPackets      uint64 // parity packets received
	FECRecovered    uint64 // media packets rebuilt from parity
	BadParity       uint64
	Repaired        uint64 // gaps filled (mostly by RTX)
	RTXPackets      uint64
	Duplicates      uint64
	LatePackets     uint64 // for frames already emitted or given up
	BadDescriptor   uint64
	ForeignSSRC     uint64
	NACKsSent       uint64 // sequence numbers NACKed (with repeats)
	PLIsSent        uint64
	RTT             time.Duration // receiver-side estimate (NACK→repair)
	Jitter          time.Duration // RFC 3550 interarrival jitter
	CumulativeLost  int64
	ExpectedPackets uint32
	ReceivedPrimary uint32
}

type inFrame struct {
	num         int64
	desc        Descriptor
	media       time.Duration
	parts       [][]byte
	got         int
	completedAt time.Time
	gone        bool // given up (lost/undecodable) before completing
	goneAt      time.Time
	fec         *fecFrame // parity received for it, if any
	firstSeq    uint16    // sequence number of packet 0, once known
	haveFirst   bool
}

// Receiver is the jitter buffer: it reorders media packets, reassembles
// frames, emits complete decodable frames in order at their playout time,
// reports lost/undecodable/late frames, schedules NACKs and asks for a key
// frame when one is lost. Create with NewReceiver. Pure state machine; not
// safe for concurrent use.
type Receiver struct {
	cfg   ReceiverConfig
	rtcp  *rtcp.ReceiverStats
	nacks *nackTracker

	frameUnwrap rtcp.SeqUnwrapper
	tsUnwrap    tsUnwrapper
	frames      map[int64]*inFrame
	nextEmit    int64
	started     bool
	base        time.Time // min(arrival - media time): playout origin
	status      [1024]frameStatus

	fecCode fec.ReedSolomon

	pliDue  bool
	lastPLI time.Time
	stats   ReceiverStats
}

type frameStatus struct {
	num       int64
	delivered bool
	set       bool
}

// NewReceiver returns a Receiver for cfg.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	cfg.setDefaults()
	return &Receiver{cfg: cfg, frames: make(map[int64]*inFrame),
		nacks: newNACKTracker(cfg.InitialRTT, cfg.ReorderWait, cfg.NACKRepeat, cfg.NACKRepeats, cfg.MaxNACKRounds, cfg.MaxMissing, cfg.NACKMinPriority)}
}

// Config returns the configuration with defaults applied.
func (r *Receiver) Config() ReceiverConfig { return r.cfg }

// MediaSSRC returns the media source (0 until learned).
func (r *Receiver) MediaSSRC() uint32 { return r.cfg.MediaSSRC }

// Stats returns a copy of the counters.
func (r *Receiver) Stats() ReceiverStats {
	st := r.stats
	st.RTT = r.nacks.srtt
	if r.rtcp != nil {
		st.Jitter = r.rtcp.JitterDuration()
		st.CumulativeLost = r.rtcp.CumulativeLost()
		st.ExpectedPackets = r.rtcp.Expected()
		st.ReceivedPrimary = r.rtcp.Received()
	}
	return st
}

// OnRTP takes a decoded RTP packet (media or RTX) that arrived at now. Its
// payload is copied. It returns an error (and counts it) for a packet of
// another source or payload type, or with a bad descriptor.
func (r *Receiver) OnRTP(now time.Time, p *pionrtp.Packet) error {
	rtx, parity := false, false
	switch p.PayloadType {
	case r.cfg.PayloadType:
		if r.cfg.MediaSSRC == 0 {
			r.cfg.MediaSSRC = p.SSRC
		}
		if p.SSRC != r.cfg.MediaSSRC {
			r.stats.ForeignSSRC++
			return fmt.Errorf("%w: SSRC %#x, want %#x", ErrMalformed, p.SSRC, r.cfg.MediaSSRC)
		}
	case r.cfg.RTXPayloadType:
		if r.cfg.MediaSSRC == 0 {
			r.stats.ForeignSSRC++
			return fmt.Errorf("%w: RTX before any media packet", ErrMalformed)
		}
		if err := UnwrapRTX(p, r.cfg.PayloadType, r.cfg.MediaSSRC); err != nil {
			return err
		}
		rtx = true
		r.stats.RTXPackets++
	case r.cfg.FECPayloadType:
		if len(p.Payload) < 5 {
			r.stats.BadParity++
			return fmt.Errorf("%w: parity payload of %d bytes", ErrMalformed, len(p.Payload))
		}
		parity = true
		r.stats.FECPackets++
	default:
		r.stats.ForeignSSRC++
		return fmt.Errorf("%w: payload type %d", ErrMalformed, p.PayloadType)
	}
	d, err := DescriptorOf(p, r.cfg.ExtensionID)
	if err != nil {
		r.stats.BadDescriptor++
		return err
	}
	if r.rtcp == nil {
		r.rtcp = rtcp.NewReceiverStats(r.cfg.MediaSSRC, r.cfg.ClockRate)
	}
	if !rtx && !parity {
		r.rtcp.OnPacket(now, p.SequenceNumber, p.Timestamp)
	}
	if !parity {
		r.stats.Packets++
	}

	media := r.tsUnwrap.media(p.Timestamp, r.cfg.ClockRate)
	if origin := now.Add(-media); r.base.IsZero() || origin.Before(r.base) {
		r.base = origin
	}
	num := r.frameUnwrap.Unwrap(d.Frame)
	if !r.started {
		r.started, r.nextEmit = true, num
		// Packets of this frame before the first one seen are missing too.
		if !rtx && !parity && d.Index > 0 {
			r.nacks.prime(p.SequenceNumber - d.Index)
		}
	}
	if !parity {
		if _, repaired := r.nacks.onPacket(now, p.SequenceNumber, d, rtx); repaired {
			r.stats.Repaired++
		}
	}
	if num < r.nextEmit {
		r.stats.LatePackets++
		if !parity {
			r.lateFill(now, num, d, p.Payload)
		}
		return nil
	}
	if num > r.nextEmit+4096 {
		r.stats.LatePackets++ // absurdly far ahead: ignore
		return nil
	}
	f := r.frames[num]
	if f == nil {
		f = &inFrame{num: num, desc: d, media: media, parts: make([][]byte, d.Count)}
		r.frames[num] = f
	}
	if parity {
		if d.Count != f.desc.Count {
			r.stats.BadParity++
			return fmt.Errorf("%w: parity for %d packets, frame has %d", ErrMalformed, d.Count, f.desc.Count)
		}
		if f.fec == nil {
			f.fec = &fecFrame{}
		}
		if err := f.fec.onParity(int(p.Payload[0]), int(p.Payload[1]), p.Payload[2:]); err != nil {
			r.stats.BadParity++
			return err
		}
	} else {
		if !f.haveFirst {
			f.firstSeq, f.haveFirst = p.SequenceNumber-d.Index, true
		}
		r.addPart(now, f, d, p.Payload)
	}
	r.tryFEC(now, f)
	return nil
}

// tryFEC rebuilds f's missing packets from its parity when enough arrived.
func (r *Receiver) tryFEC(now time.Time, f *inFrame) {
	if f.fec == nil || !f.completedAt.IsZero() {
		return
	}
	lost, err := f.fec.recover(&r.fecCode, f.parts, len(f.parts)-f.got)
	if err != nil {
		r.stats.BadParity++
		f.fec = nil
		return
	}
	for _, i := range lost {
		f.got++
		r.stats.FECRecovered++
		if f.haveFirst {
			r.nacks.forget(f.firstSeq + uint16(i))
		}
	}
	if len(lost) > 0 && f.got == len(f.parts) {
		f.completedAt = now
	}
}

func (r *Receiver) addPart(now time.Time, f *inFrame, d Descriptor, payload []byte) {
	if d.Count != f.desc.Count || int(d.Index) >= len(f.parts) {
		r.stats.BadDescriptor++
		return
	}
	if f.parts[d.Index] != nil {
		r.stats.Duplicates++
		return
	}
	f.parts[d.Index] = append(make([]byte, 0, len(payload)), payload...)
	f.got++
	if f.got == len(f.parts) {
		f.completedAt = now
	}
}

// lateFill records a packet for a frame already emitted or given up; a
// given-up frame that completes this way counts as Late.
func (r *Receiver) lateFill(now time.Time, num int64, d Descriptor, payload []byte) {
	f := r.frames[num]
	if f == nil || !f.gone || !f.completedAt.IsZero() {
		return
	}
	r.addPart(now, f, d, payload)
	if !f.completedAt.IsZero() {
		r.stats.Kinds[min(int(f.desc.Kind), 3)].Late++
	}
}

// NACKs appends the media sequence numbers to NACK at now to dst.
func (r *Receiver) NACKs(now time.Time, dst []uint16) []uint16 {
	maxAge := time.Duration(0)
	if !r.cfg.EmitOnComplete {
		maxAge = r.cfg.PlayoutDelay + r.nacks.srtt
	}
	n := len(dst)
	dst = r.nacks.due(now, maxAge, dst)
	r.stats.NACKsSent += uint64(len(dst) - n)
	return dst
}

// TakePLI reports whether a PLI should be sent at now (rate-limited by
// PLIInterval) and clears the request.
func (r *Receiver) TakePLI(now time.Time) bool {
	if !r.pliDue || (!r.lastPLI.IsZero() && now.Sub(r.lastPLI) < r.cfg.PLIInterval) {
		return false
	}
	r.pliDue = false
	r.lastPLI = now
	r.stats.PLIsSent++
	return true
}

// OnSenderReport records an SR from the media source (for LSR/DLSR).
func (r *Receiver) OnSenderReport(now time.Time, sr *pionrtcp.SenderReport) {
	if r.rtcp != nil && sr.SSRC == r.cfg.MediaSSRC {
		r.rtcp.OnSenderReport(now, sr.NTPTime)
	}
}

// ReceptionReport builds the report block about the media source at now.
func (r *Receiver) ReceptionReport(now time.Time) (pionrtcp.ReceptionReport, bool) {
	if r.rtcp == nil {
		return pionrtcp.ReceptionReport{}, false
	}
	return r.rtcp.Report(now)
}

// NextTimeout returns when Poll, NACKs or TakePLI next have work (zero if
// nothing is scheduled).
func (r *Receiver) NextTimeout(now time.Time) time.Time {
	t := r.nacks.nextTimeout()
	earlier := func(u time.Time) {
		if !u.IsZero() && (t.IsZero() || u.Before(t)) {
			t = u
		}
	}
	if r.pliDue {
		earlier(r.lastPLI.Add(r.cfg.PLIInterval))
	}
	if r.started && !r.cfg.EmitOnComplete {
		f := r.frames[r.nextEmit]
		if f != nil && !f.completedAt.IsZero() {
			earlier(r.playoutAt(f))
		} else if d, ok := r.missingDeadline(f); ok {
			earlier(d)
		}
	}
	return t
}
