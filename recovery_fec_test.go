package skiff

// Session-level signature tests of RecoveryFEC (issue 4). Owned by the fec
// helper; the root package's FEC registration is the session's.

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/netem"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

func init() {
	// Until the root package registers the fec strategy itself.
	if fecFactory == nil {
		RegisterFEC(func(env rudp.Env, cfg *Config) (rudp.Strategy, error) {
			return fec.NewSessionStrategy(env, cfg.FEC, cfg.MTU, cfg.NackRetries, rudp.DefaultMaxAckDelay)
		})
	}
}

// dropConn drops outgoing datagrams with probability p (seeded) and
// counts the drops by packet type, so a test knows exactly how many data
// packets the "network" lost.
type dropConn struct {
	net.PacketConn
	mu      sync.Mutex
	rng     *rand.Rand
	p       float64
	dropped map[rudp.PacketType]int
	sent    map[rudp.PacketType]int
}

func newDropConn(pc net.PacketConn, p float64, seed uint64) *dropConn {
	return &dropConn{PacketConn: pc, rng: rand.New(rand.NewPCG(seed, seed)), p: p,
		dropped: map[rudp.PacketType]int{}, sent: map[rudp.PacketType]int{}}
}

func (d *dropConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	typ := rudp.PacketType(0)
	if len(b) > 1 {
		typ = rudp.PacketType(b[1])
	}
	d.mu.Lock()
	d.sent[typ]++
	drop := typ != rudp.TypeHello && typ != rudp.TypeAccept && typ != rudp.TypeRetry && d.rng.Float64() < d.p
	if drop {
		d.dropped[typ]++
	}
	d.mu.Unlock()
	if drop {
		return len(b), nil
	}
	return d.PacketConn.WriteTo(b, addr)
}

func (d *dropConn) counts(typ rudp.PacketType) (sent, dropped int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sent[typ], d.dropped[typ]
}

// fecEnv is a client/server pair over a 10 ms netem link whose client
// side drops data and repair packets at random through a dropConn; the
// server's acks cross the link with the same loss rate.
type fecEnv struct {
	net    *netem.Network
	drop   *dropConn
	l      *Listener
	c, s   *Session
	cpc    *netem.Conn
	spc    *netem.Conn
	cancel context.CancelFunc
}

func newFECEnv(t *testing.T, loss float64, seed uint64, opts fec.StrategyConfig, bw int64) *fecEnv {
	t.Helper()
	e := &fecEnv{net: netem.NewNetwork(int64(seed))}
	up := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: bw, QueueBytes: 256 << 10}
	down := up
	down.Loss = loss
	_, err := e.net.Link(clientHost, serverHost, up, down)
	require.NoError(t, err)
	e.spc, err = e.net.ListenPacket(serverHost + ":5000")
	require.NoError(t, err)
	e.cpc, err = e.net.ListenPacket(clientHost + ":0")
	require.NoError(t, err)
	cfg := &Config{Recovery: RecoveryFEC, FEC: opts, CongestionSeed: seed*1000 + 1}
	e.l, err = Listen(e.spc, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.cancel = cancel
	acc := make(chan *Session, 1)
	go func() {
		s, _ := e.l.AcceptSession(ctx)
		acc <- s
	}()
	e.drop = newDropConn(e.cpc, loss, seed)
	e.c, err = Dial(ctx, e.drop, e.spc.LocalAddr(), cfg)
	require.NoError(t, err)
	e.s = <-acc
	require.NotNil(t, e.s)
	return e
}

func (e *fecEnv) close(t *testing.T) {
	e.c.Close()
	e.s.Close()
	e.l.Close()
	waitDone(t, e.c, e.s)
	e.cancel()
	e.net.Close()
	e.cpc.Close()
	e.spc.Close()
}

// TestFECBulkRecovery: a 2 MiB transfer at 3% random loss. RS(10,3)
// rebuilds at least 95% of the data packets the network dropped, with no
// retransmission involved (the receiver's RecoveredByFEC counter); XOR(10)
// at 1% rebuilds every loss alone in its group (about 90% of them). The
// same holds with the timed-RTO fallback instead of NACK.
func TestFECBulkRecovery(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		opts fec.StrategyConfig
		min  float64
	}{
		{"rs_10_3_loss_3pct", 0.03, fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeReedSolomon, K: 10, M: 3}}, 0.95},
		{"xor_10_loss_1pct", 0.01, fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeXOR, K: 10}}, 0.80},
		{"rs_10_3_loss_3pct_rto_fallback", 0.03, fec.StrategyConfig{Fallback: fec.FallbackRTO, Encoder: fec.EncoderConfig{K: 10, M: 3}}, 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newFECEnv(t, tc.loss, 7, tc.opts, 50e6)
				data := randomData(2<<20, 3)
				start := time.Now()
				got := sendAll(t, e.c, e.s, data)
				el := time.Since(start)
				requireSameData(t, data, got)
				sent, dropped := e.drop.counts(rudp.TypeData)
				rsent, rdropped := e.drop.counts(rudp.TypeRepair)
				cs, ss := e.c.Stats(), e.s.Stats()
				ratio := float64(ss.RecoveredByFEC) / float64(dropped)
				t.Logf("%s: %.1f Mbit/s (fake time); data sent %d dropped %d; repair sent %d dropped %d; recovered by FEC %d (%.1f%%); retransmitted %d; wire/payload %.3f",
					tc.name, float64(len(data))*8/el.Seconds()/1e6, sent, dropped, rsent, rdropped, ss.RecoveredByFEC, 100*ratio,
					cs.PacketsRetransmitted, float64(cs.BytesSent)/float64(len(data)))
				e.close(t)
				require.Positive(t, dropped)
				require.GreaterOrEqual(t, ratio, tc.min)
			})
		})
	}
}

// TestFECMessageLatency: 200-byte messages at 50 Hz for 10 s over a 10 ms
// one-way path with random loss. A lost message is rebuilt from the
// repair packet its (time-bounded) group sends 2 ms later, so the p99
// one-way latency stays within 15 ms: no round trip, no waiting for the
// next message. With size-only groups (kcp-go's design, MaxGroupDelay < 0)
// a group of 10 takes 200 ms to fill and FEC does not help latency.
func TestFECMessageLatency(t *testing.T) {
	for _, tc := range []struct {
		name   string
		loss   float64
		opts   fec.StrategyConfig
		maxP99 time.Duration // 0: expect p99 above 15 ms
	}{
		{"rs_time_bounded_loss_5pct", 0.05, fec.StrategyConfig{Adaptive: true}, 15 * time.Millisecond},
		{"xor_time_bounded_loss_1pct", 0.01, fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeXOR}}, 15 * time.Millisecond},
		{"rs_size_only_loss_5pct", 0.05, fec.StrategyConfig{Encoder: fec.EncoderConfig{MaxGroupDelay: -1}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lat, e := runMessages(t, tc.loss, tc.opts, 500)
				n := len(lat)
				p50, p99, maxLat := lat[n/2], lat[n*99/100-1], lat[n-1]
				_, dropped := e.drop.counts(rudp.TypeData)
				_, rdropped := e.drop.counts(rudp.TypeRepair)
				cs, ss := e.c.Stats(), e.s.Stats()
				t.Logf("%s: 50 Hz x 200 B: p50 %v p99 %v max %v; data dropped %d, repair dropped %d, recovered by FEC %d, retransmitted %d, wire/payload %.2f",
					tc.name, p50, p99, maxLat, dropped, rdropped, ss.RecoveredByFEC, cs.PacketsRetransmitted, float64(cs.BytesSent)/float64(200*n))
				e.close(t)
				require.Positive(t, dropped)
				if tc.maxP99 > 0 {
					require.LessOrEqual(t, p99, tc.maxP99)
				} else {
					require.Greater(t, p99, 15*time.Millisecond)
				}
			})
		})
	}
}

// runMessages sends n 200-byte reliable ordered messages at 50 Hz and
// returns their one-way latencies, sorted. Call inside a synctest bubble.
func runMessages(t *testing.T, loss float64, opts fec.StrategyConfig, n int) ([]time.Duration, *fecEnv) {
	e := newFECEnv(t, loss, 11, opts, 10e6)
	lat := make([]time.Duration, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			m, err := e.s.ReceiveMessage(context.Background())
			if err != nil {
				return
			}
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(m)))
			lat = append(lat, time.Since(sent))
		}
	}()
	msg := make([]byte, 200)
	for range n {
		binary.BigEndian.PutUint64(msg, uint64(time.Now().UnixNano()))
		if err := e.c.SendMessage(msg, ReliableOrdered); err != nil {
			t.Errorf("SendMessage: %v", err)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	if len(lat) != n {
		e.close(t)
		t.Fatalf("received %d of %d messages", len(lat), n)
	}
	slices.Sort(lat)
	return lat, e
}
