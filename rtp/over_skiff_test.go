package rtp

// The media session over a skiff session (issue 6): Session.PacketConn
// gives the RTP session a net.PacketConn whose datagrams are unreliable
// skiff messages, so media shares the skiff connection (handshake, NAT
// rebinding, keepalive, congestion accounting) with any reliable data.

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff"
	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
)

// skiffPair dials a skiff session from 10.0.0.1 to 10.0.0.2 over nw and
// returns both ends and a stop func that closes everything.
func skiffPair(t *testing.T, nw *netem.Network) (client, server *skiff.Session, stop func()) {
	t.Helper()
	spc, err := nw.ListenPacket("10.0.0.2:5004")
	require.NoError(t, err)
	cpc, err := nw.ListenPacket("10.0.0.1:5004")
	require.NoError(t, err)
	// Fixed congestion seeds: the netem seed alone then decides the run
	// (the default derives BBR's seed from the random connection ID).
	l, err := skiff.Listen(spc, &skiff.Config{CongestionSeed: 2})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acc := make(chan *skiff.Session, 1)
	go func() {
		s, _ := l.AcceptSession(ctx)
		acc <- s
	}()
	client, err = skiff.Dial(ctx, cpc, spc.LocalAddr(), &skiff.Config{CongestionSeed: 1})
	require.NoError(t, err)
	server = <-acc
	require.NotNil(t, server)
	return client, server, func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = client.Close() }()
		_ = server.Close()
		wg.Wait()
		_ = l.Close()
		for _, s := range []*skiff.Session{client, server} {
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Errorf("skiff session did not end")
			}
		}
		_ = cpc.Close()
		_ = spc.Close()
	}
}

// runStreamOverSkiff is runStream with the two RTP sessions on the two
// ends of a skiff session (messages with delivery d) instead of on the
// netem sockets themselves.
func runStreamOverSkiff(t *testing.T, seed int64, d skiff.Delivery, spec streamSpec, ab, ba netem.Profile, scfg SenderConfig, rcfg ReceiverConfig) (*streamResult, skiff.Stats) {
	t.Helper()
	nw := netem.NewNetwork(seed)
	defer nw.Close()
	link, err := nw.Link("10.0.0.1", "10.0.0.2", ab, ba)
	require.NoError(t, err)
	sa, sb, stop := skiffPair(t, nw)
	defer stop()

	scfg.SSRC = 0x1000
	a, err := NewSession(SessionConfig{Conn: sa.PacketConn(d), Peer: sa.RemoteAddr(), Sender: scfg, Seed: seed, SessionBandwidth: congestion.Bandwidth(spec.bitrate())})
	require.NoError(t, err)
	b, err := NewSession(SessionConfig{Conn: sb.PacketConn(d), Peer: sb.RemoteAddr(), Sender: SenderConfig{SSRC: 0x2000}, Receiver: rcfg, Seed: seed + 1, FrameBuffer: 1024})
	require.NoError(t, err)

	res := &streamResult{}
	var mu sync.Mutex
	sent := map[uint64]sentFrame{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for f := range b.Frames() {
			mu.Lock()
			idx := uint64((f.Timestamp + time.Millisecond) * time.Duration(spec.fps) / time.Second)
			sf, ok := sent[idx]
			mu.Unlock()
			if !ok {
				continue
			}
			lat := f.CompletedAt.Sub(sf.capture)
			kr := &res.kinds[sf.kind]
			kr.delivered++
			kr.latency = append(kr.latency, lat)
			res.latency = append(res.latency, lat)
			res.playout = append(res.playout, f.PlayoutAt.Sub(sf.capture))
			if spec.deadline > 0 && f.PlayoutAt.Sub(sf.capture) > spec.deadline+time.Millisecond {
				kr.late++
			}
		}
	}()

	frameDur := time.Second / time.Duration(spec.fps)
	n := int(spec.duration / frameDur)
	start := time.Now()
	var lastRef FrameID
	pos := 0
	for i := range n {
		select {
		case <-a.KeyFrameRequests():
			if pos >= spec.fps {
				pos = 0
			}
		default:
		}
		f := Frame{Timestamp: time.Duration(i) * frameDur}
		switch {
		case pos%spec.gop == 0:
			f.Kind, f.Payload = KindI, make([]byte, 10*spec.unit)
		case pos%spec.gop%3 == 0:
			f.Kind, f.Payload, f.DependsOn = KindP, make([]byte, 3*spec.unit), lastRef
		default:
			f.Kind, f.Payload, f.DependsOn = KindB, make([]byte, spec.unit), lastRef
		}
		pos++
		capture := start.Add(time.Duration(i) * frameDur)
		time.Sleep(time.Until(capture))
		if spec.deadline > 0 {
			f.Deadline = capture.Add(spec.deadline)
		}
		mu.Lock()
		sent[uint64(i)] = sentFrame{kind: f.Kind, capture: capture}
		mu.Unlock()
		res.kinds[f.Kind].sent++
		id, err := a.Send(f)
		require.NoError(t, err)
		if f.Kind != KindB {
			lastRef = id
		}
	}
	time.Sleep(2 * time.Second) // drain
	res.sess = a.Stats()
	res.rcv = b.Stats()
	res.pipe = link.AToB().Stats()
	st := sa.Stats()
	// Closing the RTP sessions closes the views, not the skiff sessions.
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	wg.Wait()
	select {
	case <-sa.Done():
		t.Fatal("closing the RTP session closed the skiff session")
	default:
	}
	return res, st
}

// As TestStreamRandomLoss (5% loss both ways, 40 ms RTT, 150 ms deadline,
// NACK/RTX), but RTP rides unreliable skiff messages: every I frame and
// ≥ 99% of P frames arrive by their deadline, none late.
func TestStreamOverSkiffSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    skiff.Delivery
	}{{"unreliable", skiff.Unreliable}, {"unreliable_sequenced", skiff.UnreliableSequenced}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				spec := streamSpec{fps: 30, gop: 30, unit: 1500, duration: 20 * time.Second, deadline: 150 * time.Millisecond}
				prof := netem.Profile{Delay: 20 * time.Millisecond, Loss: 0.05}
				res, st := runStreamOverSkiff(t, testSeed(1), tc.d, spec, prof, prof,
					// MTU 1100 keeps each RTP packet (RTX included) within
					// one skiff datagram of the default 1200-byte MTU, so a
					// packet is never split into fragments.
					SenderConfig{MTU: 1100, InitialRTT: 40 * time.Millisecond,
						Budget: NewLossBasedRate(2500*congestion.KbitPerSecond, 2*congestion.MbitPerSecond, 4*congestion.MbitPerSecond)},
					ReceiverConfig{PlayoutDelay: 130 * time.Millisecond, InitialRTT: 40 * time.Millisecond})
				ss, rs := res.sess.Sender, res.rcv.Receiver
				t.Logf("over skiff (%s), 5%% loss, RTT 40 ms, deadline 150 ms, %.0f kbit/s:\n%s", tc.name, spec.bitrate()/1000, res)
				t.Logf("media packets %d, RTX %d (tail probes %d), overhead %.1f%%; receiver: repaired by RTX %d, NACKed %d, PLIs %d; skiff client %+v",
					ss.Packets, ss.Retransmitted, ss.TailProbes, 100*float64(ss.Retransmitted)/float64(ss.Packets),
					rs.Repaired, rs.NACKsSent, rs.PLIsSent, st)
				require.Equal(t, res.kinds[KindI].sent, res.kinds[KindI].delivered, "every I frame")
				require.GreaterOrEqual(t, float64(res.kinds[KindP].delivered), 0.99*float64(res.kinds[KindP].sent), "≥ 99%% of P frames")
				for _, k := range []Kind{KindI, KindP, KindB} {
					require.Zero(t, res.kinds[k].late, "no %s frame played out late", k)
				}
			})
		})
	}
}
