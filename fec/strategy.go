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
	// DefaultAdaptiveTargetGroupLoss is the adaptive target for groups
	// (bulk traffic; sparse groups use SparseTargetGroupLoss): a group
	// that FEC cannot rebuild costs one ARQ round trip, not data, so 5%
	// keeps the repair overhead of bulk transfers low (m = 1 of 10 at 1%
	// loss, 2 at 5%, 3 at 10%). Fake-time 16 MiB bulk, RS, against 3%: wire
	// 1.318 -> 1.274 at 5% loss and 1.401 -> 1.391 at 10%, goodput 39.4 ->
	// 40.5 and 39.1 -> 39.2 Mbit/s (TestCompareRecoveryBulk).
	DefaultAdaptiveTargetGroupLoss = 5e-2
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
//
// Whatever the scheme, sparse groups (messages, each alone in its group)
// start with MaxM repairs (XOR: MaxCopies copies of its parity) from a
// bursty prior and follow the measured loss and burstiness from there,
// within Encoder.SparseRepairRate (see doc.go, "Sparse groups"). With XOR
// a zero Encoder.TargetGroupLoss also defaults to
// DefaultAdaptiveTargetGroupLoss.
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
	// BurstEstimate the conditional loss P(lost | previous packet lost)
	// sparse groups are sized for (measured, blended with the prior
	// SparsePriorBurst).
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
	// track: repair outcomes feed the estimates (estimator.go), in
	// adaptive mode or when sparse groups may get extra repairs.
	track   bool
	repairs []repairRec // repair packets awaiting an outcome
	loss    float64
	samples int
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
	lastRepairGroup   uint32
	lastRepairSet     bool
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
	if cfg.Encoder.Scheme == SchemeXOR && cfg.Encoder.TargetGroupLoss == 0 {
		// XOR's m is fixed; the target only sizes the parity copies of
		// sparse groups, which should match what RS's default gives them.
		cfg.Encoder.TargetGroupLoss = DefaultAdaptiveTargetGroupLoss
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
	// Sparse groups start from the bursty prior (sparse.go).
	s.track = cfg.Adaptive || cfg.Encoder.SparseRepairRate > 0
	if s.track {
		s.enc.SetBurstLoss(s.sparseLoss())
	}
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
	_, q := s.sparseLoss()
	st.Encoder, st.Decoder, st.LossEstimate, st.BurstEstimate = s.enc.Stats(), s.dec.Stats(), s.loss, q
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
		pairable := s.track && s.pairable(pn, b)
		if err := s.env.SendRepair(now, b); err != nil {
			s.stats.RepairSendErrors++
			continue
		}
		if s.track && len(s.repairs) < 1024 {
			s.repairs = append(s.repairs, repairRec{pn: pn, pairable: pairable})
		}
		s.lastRepairPN = pn
	}
}

// OnAckReceived goes to the fallback; in adaptive mode it then updates the
// loss estimate from the repair packets whose fate is known.
func (s *Strategy) OnAckReceived(now time.Time, ack *rudp.AckFrame, largestNewlyAcked, newData bool) {
	if s.track {
		s.noteAcked() // before the fallback may prune the history
	}
	s.fb.OnAckReceived(now, ack, largestNewlyAcked, newData)
	if s.track {
		s.updateLoss()
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
