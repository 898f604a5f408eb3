package tcp

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sentSeg is a segment a test TCB emitted.
type sentSeg struct {
	h       Header
	payload []byte
}

// endpoint is a TCB with the segments it emitted.
type endpoint struct {
	t   *tcb
	out []sentSeg
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig() *Config {
	cfg, err := Config{MSS: 1000, SendBuffer: 64 << 10, RecvBuffer: 64 << 10, MSL: 5 * time.Second, DelayedACK: -1}.withDefaults(1500)
	if err != nil {
		panic(err)
	}
	return &cfg
}

func newEndpoint(cfg *Config, lport, rport uint16, iss uint32) *endpoint {
	e := &endpoint{}
	e.t = newTCB(cfg, lport, rport, iss, func(h *Header, p []byte) {
		e.out = append(e.out, sentSeg{h: *h, payload: bytes.Clone(p)})
	})
	return e
}

// take returns and clears what e emitted.
func (e *endpoint) take() []sentSeg {
	s := e.out
	e.out = nil
	return s
}

// deliverAll hands every segment from emitted by `from` to `to`, as the
// stack does (handleSegment then output), and returns them.
func deliverAll(now time.Time, from, to *endpoint) []sentSeg {
	segs := from.take()
	for i := range segs {
		to.t.handleSegment(now, &segs[i].h, segs[i].payload)
		to.t.output(now)
		if err := to.t.checkScoreboard(); err != nil {
			panic(err)
		}
	}
	return segs
}

// handshake builds an ESTABLISHED pair: a actively opens to b (LISTEN).
func handshake(t *testing.T, cfg *Config) (a, b *endpoint) {
	a = newEndpoint(cfg, 1000, 2000, 100)
	b = newEndpoint(cfg, 2000, 1000, 5000)
	b.t.listen()
	a.t.open(t0)
	require.Equal(t, StateSynSent, a.t.state)
	syn := deliverAll(t0, a, b)
	require.Len(t, syn, 1)
	require.Equal(t, FlagSYN, syn[0].h.Flags)
	require.Equal(t, StateSynReceived, b.t.state)
	synack := deliverAll(t0, b, a)
	require.Len(t, synack, 1)
	require.Equal(t, FlagSYN|FlagACK, synack[0].h.Flags)
	require.Equal(t, uint32(101), synack[0].h.Ack)
	require.Equal(t, StateEstablished, a.t.state)
	ack := deliverAll(t0, a, b)
	require.Len(t, ack, 1)
	require.Equal(t, FlagACK, ack[0].h.Flags)
	require.Equal(t, StateEstablished, b.t.state)
	return a, b
}

func TestHandshakeNegotiatesMSSAndWindowScale(t *testing.T) {
	cfg := testConfig()
	a, b := handshake(t, cfg)
	require.Equal(t, 1000, a.t.mss)
	require.Equal(t, 1000, b.t.mss)
	require.Equal(t, windowShift(64<<10), a.t.sndShift)
	require.Equal(t, windowShift(64<<10), b.t.sndShift)
	require.Equal(t, uint32(101), b.t.rcvNxt)
	require.Equal(t, uint32(5001), a.t.rcvNxt)
	require.NotNil(t, a.t.cc)
	require.NotNil(t, b.t.cc)
}

func TestListenAnswersKernelSYNWithSACKWithoutTimestamps(t *testing.T) {
	cfg := testConfig()
	b := newEndpoint(cfg, 5001, 43210, 7)
	b.t.listen()
	h := Header{SrcPort: 43210, DstPort: 5001, Seq: 1, Flags: FlagSYN, Window: 64240,
		Options: Options{MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 5, HasWindowScale: true, WindowScale: 7}}
	b.t.handleSegment(t0, &h, nil)
	out := b.take()
	require.Len(t, out, 1)
	o := out[0].h.Options
	require.Equal(t, uint16(1000), o.MSS)
	require.True(t, o.SACKPermitted)
	require.True(t, b.t.sackOK)
	require.False(t, o.HasTimestamps)
	require.True(t, o.HasWindowScale)
	require.Equal(t, uint8(7), b.t.sndShift)

	// With SACK disabled, SACK-permitted is neither answered nor used.
	cfgNoSACK := *cfg
	cfgNoSACK.DisableSACK = true
	d := newEndpoint(&cfgNoSACK, 5001, 43212, 7)
	d.t.listen()
	d.t.handleSegment(t0, &h, nil)
	require.False(t, d.take()[0].h.Options.SACKPermitted)
	require.False(t, d.t.sackOK)

	// A peer that offers no window scale gets none, and no shift applies.
	c := newEndpoint(cfg, 5001, 43211, 7)
	c.t.listen()
	h.Options = Options{}
	c.t.handleSegment(t0, &h, nil)
	out = c.take()
	require.False(t, out[0].h.Options.HasWindowScale)
	require.Zero(t, c.t.rcvShift)
	require.Equal(t, 536, c.t.mss) // RFC 9293 default without an MSS option
}

func TestSimultaneousOpen(t *testing.T) {
	cfg := testConfig()
	a := newEndpoint(cfg, 1000, 2000, 100)
	b := newEndpoint(cfg, 2000, 1000, 900)
	a.t.open(t0)
	b.t.open(t0)
	synA, synB := a.take(), b.take()
	a.t.handleSegment(t0, &synB[0].h, nil)
	b.t.handleSegment(t0, &synA[0].h, nil)
	require.Equal(t, StateSynReceived, a.t.state)
	require.Equal(t, StateSynReceived, b.t.state)
	deliverAll(t0, a, b) // SYN-ACKs cross; each is old news and answered with an ACK
	deliverAll(t0, b, a)
	deliverAll(t0, a, b)
	require.Equal(t, StateEstablished, a.t.state)
	require.Equal(t, StateEstablished, b.t.state)
}

func TestCloseOrders(t *testing.T) {
	t.Run("active_close_passes_time_wait", func(t *testing.T) {
		cfg := testConfig()
		a, b := handshake(t, cfg)
		a.t.closeApp(t0, false)
		require.Equal(t, StateFinWait1, a.t.state)
		fin := deliverAll(t0, a, b)
		require.True(t, fin[0].h.Flags.Has(FlagFIN))
		require.Equal(t, StateCloseWait, b.t.state)
		deliverAll(t0, b, a) // ACK of the FIN
		require.Equal(t, StateFinWait2, a.t.state)
		b.t.closeApp(t0, false)
		require.Equal(t, StateLastAck, b.t.state)
		deliverAll(t0, b, a)
		require.Equal(t, StateTimeWait, a.t.state)
		deliverAll(t0, a, b)
		require.Equal(t, StateClosed, b.t.state)
		require.NoError(t, b.t.err)

		// TIME-WAIT lasts 2·MSL, and a retransmitted FIN restarts it.
		require.Equal(t, t0.Add(10*time.Second), a.t.nextDeadline())
		a.t.onTimer(t0.Add(9 * time.Second))
		require.Equal(t, StateTimeWait, a.t.state)
		lastFIN := Header{SrcPort: 2000, DstPort: 1000, Seq: b.t.finSeq, Ack: b.t.rcvNxt, Flags: FlagFIN | FlagACK, Window: 100}
		a.t.handleSegment(t0.Add(9*time.Second), &lastFIN, nil)
		acks := a.take()
		require.Len(t, acks, 1)
		require.Equal(t, b.t.finSeq+1, acks[0].h.Ack)
		a.t.onTimer(t0.Add(11 * time.Second))
		require.Equal(t, StateTimeWait, a.t.state)
		a.t.onTimer(t0.Add(19 * time.Second))
		require.Equal(t, StateClosed, a.t.state)
		require.NoError(t, a.t.err)
	})
	t.Run("fin_and_ack_of_fin_in_one_segment", func(t *testing.T) {
		cfg := testConfig()
		a, b := handshake(t, cfg)
		a.t.closeApp(t0, false)
		fin := a.take()
		b.t.handleSegment(t0, &fin[0].h, nil)
		b.take()                // its ACK is lost
		b.t.closeApp(t0, false) // FIN|ACK acks our FIN too
		finack := b.take()
		require.Len(t, finack, 1)
		a.t.handleSegment(t0, &finack[0].h, nil)
		require.Equal(t, StateTimeWait, a.t.state)
	})
	t.Run("simultaneous_close", func(t *testing.T) {
		cfg := testConfig()
		a, b := handshake(t, cfg)
		a.t.closeApp(t0, false)
		b.t.closeApp(t0, false)
		finA, finB := a.take(), b.take()
		a.t.handleSegment(t0, &finB[0].h, nil)
		b.t.handleSegment(t0, &finA[0].h, nil)
		a.t.output(t0)
		b.t.output(t0)
		require.Equal(t, StateClosing, a.t.state)
		require.Equal(t, StateClosing, b.t.state)
		deliverAll(t0, a, b)
		deliverAll(t0, b, a)
		require.Equal(t, StateTimeWait, a.t.state)
		require.Equal(t, StateTimeWait, b.t.state)
		a.t.onTimer(t0.Add(10 * time.Second))
		b.t.onTimer(t0.Add(10 * time.Second))
		require.Equal(t, StateClosed, a.t.state)
		require.Equal(t, StateClosed, b.t.state)
	})
	t.Run("fin_retransmitted_after_rto", func(t *testing.T) {
		cfg := testConfig()
		a, b := handshake(t, cfg)
		a.t.closeApp(t0, false)
		a.take() // FIN lost
		at := a.t.nextDeadline()
		require.False(t, at.IsZero())
		a.t.onTimer(at)
		re := deliverAll(at, a, b)
		require.Len(t, re, 1)
		require.True(t, re[0].h.Flags.Has(FlagFIN))
		require.Equal(t, StateCloseWait, b.t.state)
	})
}

func TestResetHandling(t *testing.T) {
	t.Run("exact_rst_resets", func(t *testing.T) {
		a, b := handshake(t, testConfig())
		rst := Header{SrcPort: 2000, DstPort: 1000, Seq: a.t.rcvNxt, Flags: FlagRST}
		a.t.handleSegment(t0, &rst, nil)
		require.Equal(t, StateClosed, a.t.state)
		require.ErrorIs(t, a.t.err, ErrConnectionReset)
		_, err := a.t.rb.state()
		require.ErrorIs(t, err, ErrConnectionReset)
		_ = b
	})
	t.Run("in_window_rst_gets_challenge_ack", func(t *testing.T) {
		a, _ := handshake(t, testConfig())
		rst := Header{SrcPort: 2000, DstPort: 1000, Seq: a.t.rcvNxt + 10, Flags: FlagRST}
		a.t.handleSegment(t0, &rst, nil)
		require.Equal(t, StateEstablished, a.t.state)
		out := a.take()
		require.Len(t, out, 1)
		require.Equal(t, FlagACK, out[0].h.Flags)
	})
	t.Run("out_of_window_rst_ignored", func(t *testing.T) {
		a, _ := handshake(t, testConfig())
		rst := Header{SrcPort: 2000, DstPort: 1000, Seq: a.t.rcvNxt - 10, Flags: FlagRST}
		a.t.handleSegment(t0, &rst, nil)
		require.Equal(t, StateEstablished, a.t.state)
		require.Empty(t, a.take())
	})
	t.Run("rst_in_syn_sent_refuses", func(t *testing.T) {
		a := newEndpoint(testConfig(), 1000, 2000, 100)
		a.t.open(t0)
		a.take()
		rst := Header{SrcPort: 2000, DstPort: 1000, Ack: 101, Flags: FlagRST | FlagACK}
		a.t.handleSegment(t0, &rst, nil)
		require.Equal(t, StateClosed, a.t.state)
		require.ErrorIs(t, a.t.err, ErrConnectionRefused)
	})
	t.Run("rst_with_bad_ack_in_syn_sent_ignored", func(t *testing.T) {
		a := newEndpoint(testConfig(), 1000, 2000, 100)
		a.t.open(t0)
		a.take()
		rst := Header{SrcPort: 2000, DstPort: 1000, Ack: 7, Flags: FlagRST | FlagACK}
		a.t.handleSegment(t0, &rst, nil)
		require.Equal(t, StateSynSent, a.t.state)
	})
	t.Run("ack_to_listen_gets_rst", func(t *testing.T) {
		b := newEndpoint(testConfig(), 2000, 1000, 5)
		b.t.listen()
		h := Header{SrcPort: 1000, DstPort: 2000, Seq: 1, Ack: 77, Flags: FlagACK}
		b.t.handleSegment(t0, &h, nil)
		out := b.take()
		require.Len(t, out, 1)
		require.Equal(t, FlagRST, out[0].h.Flags)
		require.Equal(t, uint32(77), out[0].h.Seq)
	})
	t.Run("syn_in_established_gets_challenge_ack", func(t *testing.T) {
		a, _ := handshake(t, testConfig())
		syn := Header{SrcPort: 2000, DstPort: 1000, Seq: a.t.rcvNxt, Flags: FlagSYN}
		a.t.handleSegment(t0, &syn, nil)
		require.Equal(t, StateEstablished, a.t.state)
		require.Equal(t, FlagACK, a.take()[0].h.Flags)
	})
	t.Run("abort_sends_rst", func(t *testing.T) {
		a, b := handshake(t, testConfig())
		a.t.abort(ErrAborted)
		require.Equal(t, StateClosed, a.t.state)
		deliverAll(t0, a, b)
		require.Equal(t, StateClosed, b.t.state)
		require.ErrorIs(t, b.t.err, ErrConnectionReset)
	})
}

func TestSynRetransmissionAndTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.SYNRetries = 2
	a := newEndpoint(cfg, 1000, 2000, 100)
	a.t.open(t0)
	require.Len(t, a.take(), 1)
	now := t0
	for i := range 2 {
		now = a.t.nextDeadline()
		require.Equal(t, time.Second<<i, now.Sub(t0)-(time.Second<<i-time.Second), "back-off %d", i)
		a.t.onTimer(now)
		require.Len(t, a.take(), 1, "SYN retransmission %d", i+1)
	}
	a.t.onTimer(a.t.nextDeadline())
	require.Equal(t, StateClosed, a.t.state)
	require.ErrorIs(t, a.t.err, ErrTimeout)
}

// sendData writes n bytes into a's send buffer and lets it transmit.
func sendData(a *endpoint, now time.Time, n int) []byte {
	d := testData(uint64(n), n)
	a.t.sb.write(d)
	a.t.output(now)
	return d
}

func TestOutOfOrderReassembly(t *testing.T) {
	a, b := handshake(t, testConfig())
	d := sendData(a, t0, 5000)
	segs := a.take()
	require.Len(t, segs, 5)
	for _, i := range []int{4, 2, 3, 1, 0} { // reversed-ish order, with a duplicate
		b.t.handleSegment(t0, &segs[i].h, segs[i].payload)
		if i == 2 {
			b.t.handleSegment(t0, &segs[i].h, segs[i].payload)
		}
		b.t.output(t0)
	}
	got := make([]byte, 6000)
	n := b.t.rb.read(got)
	require.Equal(t, d, got[:n])
	acks := b.take()
	require.Equal(t, a.t.sndNxt, acks[len(acks)-1].h.Ack)
	for _, ack := range acks[:len(acks)-1] { // duplicate ACKs for the hole at the first byte
		require.Equal(t, uint32(101), ack.h.Ack)
	}
}

func TestFastRetransmitOnThirdDupAck(t *testing.T) {
	cfg := testConfig()
	cfg.DisableSACK = true
	a, b := handshake(t, cfg)
	sendData(a, t0, 6000)
	segs := a.take()
	require.Len(t, segs, 6)
	now := t0.Add(10 * time.Millisecond)
	for i := 1; i < 6; i++ { // the first segment is lost
		b.t.handleSegment(now, &segs[i].h, segs[i].payload)
		b.t.output(now)
	}
	dups := b.take()
	require.Len(t, dups, 5)
	cwndBefore := a.t.cc.CongestionWindow()
	// The first ACK also updates the window (the SYN-ACK's was unscaled),
	// so it is not a duplicate; the next three are.
	for i := range 3 {
		a.t.handleSegment(now, &dups[i].h, nil)
		a.t.output(now)
		require.Empty(t, a.out, "after ACK %d", i)
	}
	a.t.handleSegment(now, &dups[3].h, nil)
	a.t.output(now)
	re := a.take()
	require.NotEmpty(t, re)
	require.Equal(t, segs[0].h.Seq, re[0].h.Seq)
	require.Equal(t, segs[0].payload, re[0].payload)
	require.True(t, a.t.inRecovery)
	require.True(t, a.t.cc.InRecovery())
	require.Less(t, a.t.cc.SlowStartThreshold(), cwndBefore)
	require.EqualValues(t, 1, a.t.stats.FastRetransmits)
	// The retransmission fills the hole: a full ACK ends recovery.
	b.t.handleSegment(now, &re[0].h, re[0].payload)
	b.t.output(now)
	full := b.take()
	a.t.handleSegment(now, &full[len(full)-1].h, nil)
	require.False(t, a.t.inRecovery)
	require.Equal(t, a.t.sndMax, a.t.sndUna)
}

func TestRetransmissionTimeoutBacksOffAndGoesBackN(t *testing.T) {
	a, b := handshake(t, testConfig())
	sendData(a, t0, 3000)
	require.Len(t, a.take(), 3) // all lost
	rto := a.t.nextDeadline()
	require.Equal(t, testConfig().MinRTO, rto.Sub(t0)) // the SYN's RTT sample (0) gives the minimum RTO
	a.t.onTimer(rto)
	re := a.take()
	require.Len(t, re, 1) // cwnd is one segment after an RTO
	require.Equal(t, uint32(101), re[0].h.Seq)
	require.Equal(t, 2*testConfig().MinRTO, a.t.nextDeadline().Sub(rto))
	b.t.handleSegment(rto, &re[0].h, re[0].payload)
	b.t.output(rto)
	deliverAll(rto, b, a)
	require.Len(t, a.out, 2) // slow start: the ACK lets two more out
	deliverAll(rto, a, b)
	deliverAll(rto, b, a)
	got := make([]byte, 4000)
	require.Equal(t, 3000, b.t.rb.read(got))
	require.Equal(t, a.t.sndMax, a.t.sndUna)
}

func TestZeroWindowProbe(t *testing.T) {
	cfg := testConfig()
	a, b := handshake(t, cfg)
	// b's application does not read: fill its window.
	sendData(a, t0, 64<<10)
	for range 200 {
		if len(a.out) == 0 {
			break
		}
		deliverAll(t0, a, b)
		deliverAll(t0, b, a)
	}
	require.Zero(t, a.t.sndWnd)
	require.Equal(t, a.t.sndUna, a.t.sndMax)
	unsent := a.t.sb.Len()
	sendData(a, t0, 100)
	require.Greater(t, a.t.sb.Len(), unsent)
	probeAt := a.t.persistAt
	require.False(t, probeAt.IsZero())
	a.t.onTimer(probeAt)
	probe := a.take()
	require.Len(t, probe, 1)
	require.Len(t, probe[0].payload, 1)
	// The application reads: the window update restarts the flow.
	buf := make([]byte, 64<<10)
	b.t.rb.read(buf)
	b.t.output(probeAt)
	upd := deliverAll(probeAt, b, a)
	require.NotEmpty(t, upd)
	require.Positive(t, a.t.sndWnd)
	require.NotEmpty(t, a.out)
}

func TestKeepAliveAbortsDeadPeer(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive, cfg.KeepAliveInterval, cfg.KeepAliveProbes = time.Minute, 10*time.Second, 3
	a, _ := handshake(t, cfg)
	a.take()
	now := a.t.nextDeadline()
	require.Equal(t, t0.Add(time.Minute), now)
	for i := range 3 {
		a.t.onTimer(now)
		p := a.take()
		require.Len(t, p, 1, "probe %d", i)
		require.Equal(t, a.t.sndUna-1, p[0].h.Seq)
		now = a.t.nextDeadline()
	}
	a.t.onTimer(now)
	require.Equal(t, StateClosed, a.t.state)
	require.ErrorIs(t, a.t.err, ErrTimeout)
}

func TestKeepAliveAnsweredKeepsConnection(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive, cfg.KeepAliveInterval, cfg.KeepAliveProbes = time.Minute, 10*time.Second, 1
	a, b := handshake(t, cfg)
	now := t0.Add(time.Minute)
	a.t.onTimer(now)
	deliverAll(now, a, b) // probe: unacceptable, b answers with an ACK
	deliverAll(now, b, a)
	a.t.onTimer(now.Add(10 * time.Second))
	require.Equal(t, StateEstablished, a.t.state)
}

func TestDelayedACK(t *testing.T) {
	cfg := testConfig()
	cfg.DelayedACK = 40 * time.Millisecond
	a, b := handshake(t, cfg)
	sendData(a, t0, 3000)
	segs := a.take()
	require.Len(t, segs, 3)
	b.t.handleSegment(t0, &segs[0].h, segs[0].payload)
	b.t.output(t0)
	require.Empty(t, b.out, "one segment: the ACK waits")
	require.Equal(t, t0.Add(40*time.Millisecond), b.t.nextDeadline())
	b.t.handleSegment(t0, &segs[1].h, segs[1].payload)
	b.t.output(t0)
	acks := b.take()
	require.Len(t, acks, 1, "every second segment is acknowledged at once")
	require.Equal(t, segs[2].h.Seq, acks[0].h.Ack)
	b.t.handleSegment(t0, &segs[2].h, segs[2].payload)
	b.t.output(t0)
	require.Empty(t, b.out)
	b.t.onTimer(t0.Add(40 * time.Millisecond))
	acks = b.take()
	require.Len(t, acks, 1, "the delayed ACK fires")
	require.Equal(t, a.t.sndMax, acks[0].h.Ack)
}

// TestReceiveWindowNeverExceedsBuffer fills a receiver that does not read,
// with segment sizes and a buffer that do not divide the window scale: every
// byte acknowledged must be in the buffer (none dropped by rounding).
func TestReceiveWindowNeverExceedsBuffer(t *testing.T) {
	cfg := testConfig()
	cfg.MSS, cfg.RecvBuffer, cfg.SendBuffer = 999, 100001, 300000
	a, b := handshake(t, cfg)
	require.Equal(t, uint8(1), b.t.rcvShift)
	read := 0
	for round := range 3 {
		sendData(a, t0, 100000)
		for range 500 {
			if len(a.out) == 0 && len(b.out) == 0 {
				break
			}
			deliverAll(t0, a, b)
			deliverAll(t0, b, a)
		}
		got := int(b.t.rcvNxt - (b.t.irs + 1))
		require.Equal(t, got-read, b.t.rb.Len(), "round %d: acknowledged bytes missing from the buffer", round)
		require.LessOrEqual(t, b.t.rb.Len(), cfg.RecvBuffer)
		require.LessOrEqual(t, int(b.t.rcvAdv-b.t.rcvNxt), cfg.RecvBuffer-b.t.rb.Len())
		read += b.t.rb.read(make([]byte, 30011)) // the application reads a little
		b.t.output(t0)
	}
}
