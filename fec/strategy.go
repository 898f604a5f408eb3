package fec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/skiffnet/skiff/rudp"
)

// Fallback selects the ARQ strategy that recovers what FEC cannot.
type Fallback int

// Fallbacks.
const (
	// FallbackNACK: receiver-driven NACKs (the default).
	FallbackNACK Fallback = iota
	// FallbackRTO: sender-driven timed retransmission.
	FallbackRTO
)

// String returns "nack" or "rto".
func (f Fallback) String() string {
	switch f {
	case FallbackNACK:
		return "nack"
	case FallbackRTO:
		return "rto"
	}
	return fmt.Sprintf("Fallback(%d)", int(f))
}

// symbolPNSize is the packet number carried in front of the data frame in
// every source symbol, so a rebuilt packet can be acknowledged as itself.
const symbolPNSize = 4

// StrategyOverhead is what Strategy.Overhead reserves in each data packet:
// the 5-byte tag plus 11 bytes, so that a repair packet (repair header,
// length prefix, packet number and the longest frame of its group) fits
// the same MTU as the data packets it protects.
const StrategyOverhead = RepairHeaderSize + LengthPrefixSize + symbolPNSize

// Defaults of the adaptive Reed-Solomon configuration that a zero
// Encoder.M selects (see StrategyConfig).
const (
	// DefaultAdaptiveM is m before the first loss estimate.
	DefaultAdaptiveM = 1
	// DefaultAdaptiveMaxM bounds the adaptive m.
	DefaultAdaptiveMaxM = 4
	// DefaultAdaptiveTargetGroupLoss is the adaptive target: a group that
	// FEC cannot rebuild costs one ARQ round trip, not data, so 1% keeps
	// the repair overhead low on bulk transfers (m = 1 of 10 at 1% loss,
	// 3 at 5%) while a lone 200-byte message at 5% loss still gets a
	// repair (a 0.25% chance that both are lost).
	DefaultAdaptiveTargetGroupLoss = 3e-2
)

// StrategyConfig configures the FEC recovery strategy of one session. The
// zero value is usable: adaptive Reed-Solomon RS(10, 1..4) with a 2 ms
// delay bound and NACK fallback. It is a plain value, copied by
// NewStrategy.
//
// A zero Encoder.M with Reed-Solomon selects the adaptive default: Adaptive
// is switched on, m starts at DefaultAdaptiveM and follows the measured
// loss rate within [Encoder.MinM (default 1), Encoder.MaxM (default
// DefaultAdaptiveMaxM)] with Encoder.TargetGroupLoss defaulting to
// DefaultAdaptiveTargetGroupLoss. Set Encoder.M for a fixed m (plus
// Adaptive for the classic adaptive mode starting at M).
type StrategyConfig struct {
	// Encoder configures the sending side. MaxPacketSize is set from MTU.
	Encoder EncoderConfig
	// Decoder configures the receiving side. MaxPacketSize is set from
	// MTU.
	Decoder DecoderConfig
	// Fallback recovers what FEC cannot (default FallbackNACK).
	Fallback Fallback
	// Adaptive makes the encoder choose m from the measured loss rate
	// (Encoder.SetLossRate), within Encoder.MinM..MaxM.
	Adaptive bool
	// NackHold delays the fallback's first NACK for a gap beyond the
	// reordering allowance, giving the group's repair packets time to
	// arrive. Zero means 2*Encoder.MaxGroupDelay + 1 ms; negative none.
	NackHold time.Duration

	// Set by the session from its own Config.

	// MTU is the session's datagram size (default 1200).
	MTU int
	// NackRetries bounds NACK reports per packet (0: rudp default).
	NackRetries int
	// MaxAckDelay is the peer's ack delay bound (0: rudp default).
	MaxAckDelay time.Duration
}

// StrategyStats counts what the FEC strategy did.
type StrategyStats struct {
	Encoder EncoderStats
	Decoder DecoderStats
	// Injected counts rebuilt packets handed to the session
	// (Env.InjectData accepted them); InjectErrors those it refused.
	Injected, InjectErrors uint64
	// RepairSendErrors counts repair packets Env.SendRepair refused.
	RepairSendErrors uint64
	// TagErrors counts sent data packets whose symbol could not be filed
	// under the tag they carry (never expected).
	TagErrors uint64
	// LossEstimate is the repair-packet loss rate the adaptive mode uses;
	// BurstEstimate its conditional loss P(lost | previous packet lost).
	LossEstimate, BurstEstimate float64
}

// Strategy is the FEC loss-recovery strategy (rudp.Strategy "fec"). It
// protects every data packet the session asks it to tag: the source
// symbol is the packet's number and its encoded data frame, filed into
// the Encoder's time-bounded groups; repair packets go out through
// Env.SendRepair as groups close (full, or MaxGroupDelay after their first
// packet, from OnTimeout). The receiving side files tagged data packets
// and repair payloads into a Decoder and hands every rebuilt packet to
// Env.InjectData at once.
//
// What FEC cannot rebuild, the fallback recovers: every call also goes to
// rudp.NACK or rudp.Timed. With FallbackNACK the fallback is told of each
// arrival NackHold later than it happened, so a gap is first reported
// NackHold after the usual reordering allowance: a packet that a repair is
// about to rebuild is not requested (the rebuilt packet reaches the NACK
// list through Env.InjectData, which removes it).
//
// Create it with NewStrategy. Like every rudp.Strategy it is bound to one
// Env and not safe for concurrent use.
type Strategy struct {
	env      rudp.Env
	cfg      StrategyConfig
	fb       rudp.Strategy
	nack     bool
	enc      *Encoder
	dec      *Decoder
	hold     time.Duration
	peeked   bool
	peekPN   uint64
	peekTag  SourceTag
	sym      []byte
	repBuf   []byte
	inj      []Recovered
	injBuf   []byte
	inInject bool
	repairs  []repairRec // repair packets awaiting an outcome (adaptive)
	loss     float64
	samples  int
	// lossSlow averages over 2048 repair outcomes: sparse groups use the
	// larger of it and loss, so quiet spells between bursts (when four
	// repairs per message make 64 outcomes a third of a second) do not
	// drop their protection just before the next burst.
	lossSlow float64
	// Burstiness (adaptive): pairs holds the packet numbers sent just
	// before lost repair packets whose fate is still open; lostPairs and
	// nPairs are decayed counts of such predecessors lost and in all.
	pairs             []uint64
	lostPairs, nPairs float64
	lastRepairPN      uint64
	stats             StrategyStats
}

var _ rudp.Strategy = (*Strategy)(nil)

// NewStrategy returns an FEC strategy acting on env. Errors wrap
// ErrInvalidConfig.
func NewStrategy(env rudp.Env, cfg StrategyConfig) (*Strategy, error) {
	if cfg.MTU == 0 {
		cfg.MTU = 1200
	}
	if cfg.MTU < rudp.Overhead+StrategyOverhead+rudp.DataFrameHeaderSize || cfg.MTU > MaxShardSize {
		return nil, fmt.Errorf("%w: mtu %d outside [%d, %d]", ErrInvalidConfig, cfg.MTU, rudp.Overhead+StrategyOverhead+rudp.DataFrameHeaderSize, MaxShardSize)
	}
	// A symbol is the packet number and a frame no longer than the MTU;
	// sizing by the MTU (not by what fits a repair) means filing a sent
	// packet can never fail, which would leave its tag pointing nowhere.
	cfg.Encoder.MaxPacketSize = cfg.MTU + symbolPNSize
	if cfg.Encoder.M == 0 && (cfg.Encoder.Scheme == 0 || cfg.Encoder.Scheme == SchemeReedSolomon) {
		cfg.Adaptive = true
		cfg.Encoder.M = max(DefaultAdaptiveM, cfg.Encoder.MinM)
		if cfg.Encoder.MaxM == 0 {
			cfg.Encoder.MaxM = max(DefaultAdaptiveMaxM, cfg.Encoder.M)
		}
		if cfg.Encoder.TargetGroupLoss == 0 {
			cfg.Encoder.TargetGroupLoss = DefaultAdaptiveTargetGroupLoss
		}
	}
	cfg.Decoder.MaxPacketSize = cfg.MTU + symbolPNSize
	enc, err := NewEncoder(cfg.Encoder)
	if err != nil {
		return nil, err
	}
	dec, err := NewDecoder(cfg.Decoder)
	if err != nil {
		return nil, err
	}
	s := &Strategy{env: env, cfg: cfg, enc: enc, dec: dec}
	cfg.Encoder = enc.Config()
	s.cfg.Encoder = cfg.Encoder
	switch cfg.Fallback {
	case FallbackNACK:
		s.fb, s.nack = rudp.NewNACK(&fallbackEnv{env, s}, cfg.MaxAckDelay, cfg.NackRetries), true
	case FallbackRTO:
		s.fb = rudp.NewTimed(&fallbackEnv{env, s}, cfg.MaxAckDelay)
	default:
		return nil, fmt.Errorf("%w: fallback %d unknown", ErrInvalidConfig, int(cfg.Fallback))
	}
	switch {
	case cfg.NackHold > 0:
		s.hold = cfg.NackHold
	case cfg.NackHold == 0 && cfg.Encoder.MaxGroupDelay > 0:
		s.hold = 2*cfg.Encoder.MaxGroupDelay + time.Millisecond
	}
	// The fallback's tail timer waits for the repair too: a packet FEC
	// rebuilds is acknowledged up to the hold later than a received one.
	if t, ok := s.fb.(interface{ SetTailDelayExtra(time.Duration) }); ok {
		t.SetTailDelayExtra(s.hold)
	}
	return s, nil
}

// NewSessionStrategy is the constructor a session factory calls: options
// is the session Config's FEC field (nil, StrategyConfig or
// *StrategyConfig); mtu, nackRetries and maxAckDelay come from the
// session's configuration.
func NewSessionStrategy(env rudp.Env, options any, mtu, nackRetries int, maxAckDelay time.Duration) (rudp.Strategy, error) {
	var cfg StrategyConfig
	switch o := options.(type) {
	case nil:
	case StrategyConfig:
		cfg = o
	case *StrategyConfig:
		if o != nil {
			cfg = *o
		}
	default:
		return nil, fmt.Errorf("%w: FEC options of type %T, want fec.StrategyConfig", ErrInvalidConfig, options)
	}
	cfg.MTU, cfg.NackRetries, cfg.MaxAckDelay = mtu, nackRetries, maxAckDelay
	return NewStrategy(env, cfg)
}

// Name returns "fec".
func (*Strategy) Name() string { return "fec" }

// Overhead returns StrategyOverhead.
func (*Strategy) Overhead() int { return StrategyOverhead }

// Stats returns the strategy's counters.
func (s *Strategy) Stats() StrategyStats {
	st := s.stats
	st.Encoder, st.Decoder, st.LossEstimate, st.BurstEstimate = s.enc.Stats(), s.dec.Stats(), s.loss, s.burstEstimate()
	return st
}

// Encoder exposes the encoder (for SetLossRate from outside, and tests).
func (s *Strategy) Encoder() *Encoder { return s.enc }

// Fallback exposes the wrapped ARQ strategy.
func (s *Strategy) Fallback() rudp.Strategy { return s.fb }

// TagSource tags every data packet: it peeks the encoder's next tag and
// remembers it for OnPacketSent with the same packet number.
func (s *Strategy) TagSource(_ time.Time, pn uint64) (rudp.FECTag, bool) {
	t := s.enc.PeekTag()
	s.peeked, s.peekPN, s.peekTag = true, pn, t
	return rudp.FECTag{Group: t.GroupID, Index: t.Index}, true
}

// OnPacketSent files a tagged data packet's symbol and sends the repair
// packets of any group that closed; every call goes to the fallback too.
func (s *Strategy) OnPacketSent(now time.Time, p *rudp.SentPacket, frame []byte) {
	s.fb.OnPacketSent(now, p, frame)
	if frame == nil || !s.peeked || p.PN != s.peekPN {
		return
	}
	s.peeked = false
	s.sym = appendSymbol(s.sym[:0], p.PN, frame)
	if err := s.enc.AddTagged(now, s.peekTag, s.sym); err != nil {
		s.stats.TagErrors++
		return
	}
	s.sendRepairs(now)
}

func appendSymbol(b []byte, pn uint64, frame []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(pn))
	return append(b, frame...)
}

func (s *Strategy) sendRepairs(now time.Time) {
	for {
		b, ok := s.enc.AppendNextRepair(s.repBuf[:0])
		if !ok {
			return
		}
		s.repBuf = b
		// The session numbers the repair packet next (it records every
		// transmission in History), which is how its fate is found later.
		pn := s.env.History().NextPN()
		if err := s.env.SendRepair(now, b); err != nil {
			s.stats.RepairSendErrors++
			continue
		}
		if s.cfg.Adaptive && len(s.repairs) < 1024 {
			s.repairs = append(s.repairs, repairRec{pn: pn, pairable: s.pairable(pn, b)})
		}
		s.lastRepairPN = pn
	}
}

// OnAckReceived goes to the fallback; in adaptive mode it then updates the
// loss estimate from the repair packets whose fate is known.
func (s *Strategy) OnAckReceived(now time.Time, ack *rudp.AckFrame, largestNewlyAcked, newData bool) {
	if s.cfg.Adaptive {
		s.noteAcked() // before the fallback may prune the history
	}
	s.fb.OnAckReceived(now, ack, largestNewlyAcked, newData)
	if s.cfg.Adaptive {
		s.updateLoss()
	}
}

// repairRec is the fate of one repair packet, for the loss estimate.
type repairRec struct {
	pn    uint64
	state uint8 // 0 in flight, 1 acknowledged, 2 lost
	// pairable: if this repair is lost, the fate of packet pn-1 is an
	// unbiased sample of P(lost | next packet lost) (see pairable).
	pairable bool
}

// pairable reports whether the packet sent just before repair packet pn
// (payload b) shows its true fate when the repair is lost: the previous
// repair of the same group, or the data packet of a group of one data and
// one repair packet (a rebuilt data packet is acknowledged like a received
// one, so only a data packet that no repair can rebuild counts). By the
// chain's reversibility P(previous lost | this lost) = P(lost | previous
// lost), the burstiness the encoder needs.
func (s *Strategy) pairable(pn uint64, b []byte) bool {
	var h RepairHeader
	if pn == 0 || len(b) < RepairHeaderSize {
		return false
	}
	if _, err := h.Unmarshal(b[:RepairHeaderSize]); err != nil {
		return false
	}
	if h.Index > h.K { // shard indexes count the data shards first
		return s.lastRepairPN == pn-1
	}
	prev := s.env.History().Get(pn - 1)
	return h.K == 1 && h.M == 1 && prev != nil && prev.HasSeq
}

// noteBurst files the predecessors of newly lost pairable repairs and
// counts those whose fate is known (acknowledged: 0, declared lost: 1).
func (s *Strategy) noteBurst(r repairRec) {
	if r.state == 2 && r.pairable && len(s.pairs) < 64 {
		s.pairs = append(s.pairs, r.pn-1)
	}
	h := s.env.History()
	keep := s.pairs[:0]
	for _, pn := range s.pairs {
		p := h.Get(pn)
		switch {
		case p == nil || p.Acked:
			// Pruned: delivered (a lost packet stays in the history for
			// two RTOs, longer than its repair's fate takes to learn).
			s.addPair(0)
		case p.Lost:
			s.addPair(1)
		default:
			keep = append(keep, pn)
		}
	}
	s.pairs = keep
}

// addPair adds one sample with a decay of 1/32.
func (s *Strategy) addPair(x float64) {
	s.lostPairs = s.lostPairs*(1-1.0/32) + x
	s.nPairs = s.nPairs*(1-1.0/32) + 1
}

// burstEstimate is P(lost | previous lost), shrunk towards the loss rate
// (the independent case) with a prior weight of one sample.
func (s *Strategy) burstEstimate() float64 {
	return (s.lostPairs + s.loss) / (s.nPairs + 1)
}

// fallbackEnv is the Env the fallback sees: DeclareLost is observed so the
// loss of repair packets feeds the adaptive estimate.
type fallbackEnv struct {
	rudp.Env
	s *Strategy
}

// DeclareLost notes lost repair packets and forwards the call.
func (e *fallbackEnv) DeclareLost(now time.Time, p *rudp.SentPacket, retransmit bool) {
	if e.s.cfg.Adaptive {
		for i := range e.s.repairs {
			if r := &e.s.repairs[i]; r.pn == p.PN && r.state == 0 {
				r.state = 2
			}
		}
	}
	e.Env.DeclareLost(now, p, retransmit)
}

func (s *Strategy) noteAcked() {
	h := s.env.History()
	for i := range s.repairs {
		r := &s.repairs[i]
		if r.state != 0 {
			continue
		}
		if p := h.Get(r.pn); p == nil {
			r.state = 3 // pruned unseen: no sample
		} else if p.Acked {
			r.state = 1
		} else if p.Lost {
			r.state = 2
		}
	}
}

// updateLoss feeds the outcome of each repair packet (acknowledged or
// declared lost) into an EWMA of the loss rate, oldest first. Repair
// packets are the sample because a rebuilt data packet is acknowledged
// like a received one, so data acks hide the losses FEC repaired.
func (s *Strategy) updateLoss() {
	s.noteAcked()
	n := 0
	for _, r := range s.repairs {
		if r.state == 0 {
			break // still in flight; keep order
		}
		n++
		if r.state == 3 {
			continue
		}
		s.noteBurst(r)
		x := 0.0
		if r.state == 2 {
			x = 1
		}
		s.samples++
		w := 1 / float64(min(s.samples, 64))
		s.loss += w * (x - s.loss)
		s.lossSlow += (x - s.lossSlow) / float64(min(s.samples, 2048))
	}
	if n == 0 {
		return
	}
	s.repairs = append(s.repairs[:0], s.repairs[n:]...)
	if len(s.pairs) > 0 {
		s.noteBurst(repairRec{}) // predecessors decided since
	}
	if s.samples >= 16 {
		s.enc.SetLossRate(s.loss)
		// Sparse groups get burst-aware parity once the measured
		// conditional loss clearly exceeds the loss rate (three samples
		// at least, q more than twice p): on independent loss nothing
		// changes.
		p := max(s.loss, s.lossSlow)
		if q := s.burstEstimate(); s.nPairs >= 3 && q > 2*p {
			s.enc.SetBurstLoss(p, q)
		}
	}
}

// OnDataReceived files a tagged packet's symbol (injecting whatever that
// rebuilds) and tells the fallback, NackHold late for the NACK fallback.
func (s *Strategy) OnDataReceived(now time.Time, pn uint64, kind rudp.FrameKind, seq uint64, tag *rudp.FECTag, frame []byte) {
	fbNow := now
	if s.nack {
		// Gaps found now are dated NackHold ahead, which postpones their
		// first NACK by NackHold; arrivals clear them just the same.
		fbNow = now.Add(s.hold)
	}
	s.fb.OnDataReceived(fbNow, pn, kind, seq, tag, frame)
	if tag == nil || s.inInject {
		return
	}
	s.sym = appendSymbol(s.sym[:0], pn, frame)
	rec, _ := s.dec.AddSource(now, SourceTag{GroupID: tag.Group, Index: tag.Index}, s.sym)
	s.inject(now, rec)
}

// OnRepairReceived files a repair payload and injects what it rebuilds.
func (s *Strategy) OnRepairReceived(now time.Time, pn uint64, payload []byte) {
	s.fb.OnRepairReceived(now, pn, payload)
	rec, _ := s.dec.AddRepairPacket(now, payload)
	s.inject(now, rec)
}

// inject copies the rebuilt packets out of the decoder (the session may
// call back into the strategy) and hands each to the session.
func (s *Strategy) inject(now time.Time, rec []Recovered) {
	if len(rec) == 0 {
		return
	}
	s.injBuf, s.inj = s.injBuf[:0], s.inj[:0]
	for _, r := range rec {
		start := len(s.injBuf)
		s.injBuf = append(s.injBuf, r.Packet...)
		s.inj = append(s.inj, Recovered{Tag: r.Tag, Packet: s.injBuf[start:len(s.injBuf):len(s.injBuf)]})
	}
	s.inInject = true
	defer func() { s.inInject = false }()
	for i := range s.inj {
		sym := s.inj[i].Packet
		if len(sym) < symbolPNSize {
			s.stats.InjectErrors++
			continue
		}
		if err := s.env.InjectData(now, binary.BigEndian.Uint32(sym), sym[symbolPNSize:]); err != nil {
			s.stats.InjectErrors++
			continue
		}
		s.stats.Injected++
	}
}

// AppendFeedback adds the fallback's feedback (due NACKs).
func (s *Strategy) AppendFeedback(now time.Time, ack *rudp.AckFrame) {
	s.fb.AppendFeedback(now, ack)
}

// NextTimeout returns the earliest of the encoder's group deadline, the
// decoder's expiry and the fallback's timers.
func (s *Strategy) NextTimeout() time.Time {
	t := s.fb.NextTimeout()
	for _, d := range [...]time.Time{s.enc.NextDeadline(), s.dec.NextDeadline()} {
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	return t
}

// OnTimeout closes expired groups and sends their repairs, expires old
// incomplete groups and runs the fallback's timers (NACKs due, RTO).
func (s *Strategy) OnTimeout(now time.Time) {
	if d := s.enc.NextDeadline(); !d.IsZero() && !now.Before(d) {
		s.enc.OnTimer(now)
		s.sendRepairs(now)
	}
	s.dec.OnTimer(now)
	if d := s.fb.NextTimeout(); !d.IsZero() && !now.Before(d) {
		s.fb.OnTimeout(now)
	}
}
