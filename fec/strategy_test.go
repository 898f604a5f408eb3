package fec

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// fakeEnv is a minimal rudp.Env: it records repair packets and injected
// data, numbers transmissions in its History and tracks the receiver's
// cumulative sequence number from what it is told arrived.
type fakeEnv struct {
	rtt      rudp.RTTEstimator
	hist     rudp.SentHistory
	sb       rudp.SendBuffer
	cum      uint64
	got      map[uint64]bool
	repairs  [][]byte
	injected map[uint32][]byte
	ackReqs  int
	s        *Strategy // to call back like a session does
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{got: map[uint64]bool{}, injected: map[uint32][]byte{}}
}

func (f *fakeEnv) RTT() *rudp.RTTEstimator                       { return &f.rtt }
func (f *fakeEnv) History() *rudp.SentHistory                    { return &f.hist }
func (f *fakeEnv) SendBuffer() *rudp.SendBuffer                  { return &f.sb }
func (f *fakeEnv) RecvCum() uint64                               { return f.cum }
func (f *fakeEnv) QueueRetransmit(uint64) bool                   { return false }
func (f *fakeEnv) RetransmissionTimeout(time.Time)               {}
func (f *fakeEnv) SendProbe()                                    {}
func (f *fakeEnv) RequestAck()                                   { f.ackReqs++ }
func (f *fakeEnv) DeclareLost(time.Time, *rudp.SentPacket, bool) {}

func (f *fakeEnv) SendRepair(now time.Time, payload []byte) error {
	f.hist.Add(rudp.SentPacket{Time: now, Size: len(payload), AckEliciting: true, InFlight: true})
	f.repairs = append(f.repairs, append([]byte(nil), payload...))
	return nil
}

// InjectData decodes the frame's sequence number (the test's frames are
// [seq uint64][payload]) and reports it to the strategy as a session would.
func (f *fakeEnv) InjectData(now time.Time, pn uint32, frame []byte) error {
	f.injected[pn] = append([]byte(nil), frame...)
	seq := binary.BigEndian.Uint64(frame)
	f.arrive(seq)
	f.s.OnDataReceived(now, uint64(pn), rudp.KindReliableOrdered, seq, nil, frame)
	return nil
}

func (f *fakeEnv) arrive(seq uint64) {
	f.got[seq] = true
	for f.got[f.cum] {
		f.cum++
	}
}

// sendOne makes the sender strategy tag and "send" data packet pn with
// frame, as the session does; the frame is [seq][payload].
func sendOne(t *testing.T, s *Strategy, env *fakeEnv, now time.Time, frame []byte) (uint64, rudp.FECTag) {
	pn := env.hist.NextPN()
	tag, ok := s.TagSource(now, pn)
	require.True(t, ok)
	env.hist.Add(rudp.SentPacket{Time: now, Size: len(frame), AckEliciting: true, InFlight: true})
	s.OnPacketSent(now, env.hist.Get(pn), frame)
	return pn, tag
}

func newPair(t *testing.T, cfg StrategyConfig) (snd, rcv *Strategy, senv, renv *fakeEnv) {
	senv, renv = newFakeEnv(), newFakeEnv()
	var err error
	snd, err = NewStrategy(senv, cfg)
	require.NoError(t, err)
	rcv, err = NewStrategy(renv, cfg)
	require.NoError(t, err)
	senv.s, renv.s = snd, rcv
	return snd, rcv, senv, renv
}

// TestStrategyRecoversWithoutNACK sends sparse messages (one every 20 ms);
// every third data packet is lost. Each loss is rebuilt from its group's
// repair within the delay bound, injected with its own packet number and
// frame, and never NACKed.
func TestStrategyRecoversWithoutNACK(t *testing.T) {
	snd, rcv, senv, renv := newPair(t, StrategyConfig{MTU: 1200})
	require.Equal(t, "fec", snd.Name())
	require.Equal(t, 5+11, snd.Overhead())
	rng := rand.New(rand.NewPCG(1, 1))
	now := t0
	lost := map[uint32][]byte{}
	for seq := range uint64(30) {
		frame := binary.BigEndian.AppendUint64(nil, seq)
		frame = append(frame, randPackets(rng, 1, 100, 200)[0]...)
		pn, tag := sendOne(t, snd, senv, now, frame)
		if seq%3 == 1 {
			lost[uint32(pn)] = frame
		} else {
			renv.arrive(seq)
			rcv.OnDataReceived(now, pn, rudp.KindReliableOrdered, seq, &tag, frame)
		}
		// The sender's timer closes the group within the bound.
		d := snd.NextTimeout()
		require.False(t, d.IsZero())
		require.LessOrEqual(t, d.Sub(now), DefaultMaxGroupDelay)
		snd.OnTimeout(d)
		for _, r := range senv.repairs {
			rcv.OnRepairReceived(d, 0, r)
		}
		senv.repairs = nil
		var ack rudp.AckFrame
		rcv.AppendFeedback(d, &ack)
		require.Zero(t, ack.NumNacks, "seq %d", seq)
		now = now.Add(20 * time.Millisecond)
	}
	require.Equal(t, lost, renv.injected)
	st := rcv.Stats()
	require.Equal(t, uint64(10), st.Injected)
	require.Equal(t, uint64(10), st.Decoder.Recovered)
	require.Equal(t, uint64(30), renv.cum)
	require.Equal(t, uint64(30), snd.Stats().Encoder.Groups)
}

// TestStrategyFallsBackToNACK loses a packet and its repair: after the
// reordering allowance plus the hold, the gap is NACKed.
func TestStrategyFallsBackToNACK(t *testing.T) {
	snd, rcv, senv, renv := newPair(t, StrategyConfig{MTU: 1200})
	now := t0
	for seq := range uint64(3) {
		frame := binary.BigEndian.AppendUint64(nil, seq)
		pn, tag := sendOne(t, snd, senv, now, frame)
		if seq != 1 {
			renv.arrive(seq)
			rcv.OnDataReceived(now, pn, rudp.KindReliableOrdered, seq, &tag, frame)
		}
	}
	snd.OnTimeout(snd.NextTimeout())
	require.NotEmpty(t, senv.repairs) // all lost
	due := rcv.NextTimeout()
	require.Equal(t, now.Add(max(renv.rtt.RTTVar(), rudp.Granularity)+2*DefaultMaxGroupDelay+time.Millisecond), due,
		"gap seen at now, reported after the reordering allowance and the hold")
	var ack rudp.AckFrame
	rcv.AppendFeedback(due.Add(-1), &ack)
	require.Zero(t, ack.NumNacks)
	rcv.OnTimeout(due)
	require.Equal(t, 1, renv.ackReqs)
	rcv.AppendFeedback(due, &ack)
	require.Equal(t, 1, ack.NumNacks)
	require.Equal(t, rudp.NackRange{First: 1, Count: 1}, ack.Nacks[0])
}

func TestStrategyFallbackRTO(t *testing.T) {
	snd, rcv, senv, renv := newPair(t, StrategyConfig{MTU: 1200, Fallback: FallbackRTO, Encoder: EncoderConfig{Scheme: SchemeXOR, K: 4}})
	require.Equal(t, "rto", snd.Fallback().Name())
	now := t0
	for seq := range uint64(4) {
		frame := binary.BigEndian.AppendUint64(nil, seq)
		pn, tag := sendOne(t, snd, senv, now, frame)
		if seq != 2 {
			renv.arrive(seq)
			rcv.OnDataReceived(now, pn, rudp.KindReliableOrdered, seq, &tag, frame)
		}
	}
	require.Len(t, senv.repairs, 1, "a full XOR group closes at once")
	rcv.OnRepairReceived(now, 9, senv.repairs[0])
	require.Len(t, renv.injected, 1)
	require.Equal(t, uint64(4), renv.cum)
}

func TestStrategyAdaptiveFromRepairLoss(t *testing.T) {
	cfg := StrategyConfig{MTU: 1200, Adaptive: true, Encoder: EncoderConfig{K: 10, M: 2, MinM: 1, MaxM: 6}}
	snd, _, senv, _ := newPair(t, cfg)
	rng := rand.New(rand.NewPCG(2, 2))
	now := t0
	for range 200 {
		for range 10 {
			sendOne(t, snd, senv, now, make([]byte, 100))
		}
		// Mark the outcome of every repair sent so far: 10% lost.
		for pn := senv.hist.Base(); pn < senv.hist.NextPN(); pn++ {
			p := senv.hist.Get(pn)
			if p.Acked || p.Lost {
				continue
			}
			if rng.Float64() < 0.10 {
				senv.hist.MarkLost(p)
			} else {
				senv.hist.MarkAcked(p)
			}
		}
		snd.OnAckReceived(now, &rudp.AckFrame{}, true, true)
		now = now.Add(time.Millisecond)
	}
	st := snd.Stats()
	require.InDelta(t, 0.10, st.LossEstimate, 0.06)
	require.Equal(t, ParityFor(10, st.LossEstimate, DefaultTargetGroupLoss, 1, 6), snd.Encoder().Parity(10))
	require.GreaterOrEqual(t, snd.Encoder().Parity(10), 4)
}

func TestNewSessionStrategyOptions(t *testing.T) {
	env := newFakeEnv()
	for _, o := range []any{nil, StrategyConfig{}, &StrategyConfig{Fallback: FallbackRTO}, (*StrategyConfig)(nil)} {
		s, err := NewSessionStrategy(env, o, 1400, 3, 0)
		require.NoError(t, err)
		require.Equal(t, "fec", s.Name())
	}
	_, err := NewSessionStrategy(env, 42, 1400, 3, 0)
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "FEC options of type int")
	_, err = NewSessionStrategy(env, StrategyConfig{Fallback: 7}, 1400, 3, 0)
	require.ErrorContains(t, err, "fallback 7 unknown")
	_, err = NewSessionStrategy(env, nil, 40, 3, 0)
	require.ErrorContains(t, err, "mtu 40 outside")
}
