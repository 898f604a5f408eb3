package skiff

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"
)

func TestNettestNetem(t *testing.T) {
	nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) {
		p := netem.Profile{Delay: time.Millisecond}
		e := newNetemEnv(t, 7, p, p, nil, nil)
		return e.c, e.s, func() { e.close(t) }, nil
	})
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"mtu_too_small", Config{MTU: 100}, ErrInvalidConfig},
		{"unknown_recovery", Config{Recovery: 9}, ErrInvalidConfig},
		{"unknown_congestion", Config{Congestion: "vegas"}, ErrInvalidConfig},
		{"message_needs_too_many_fragments", Config{MTU: 300, MaxMessageSize: 64 << 20}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Listen(nil, &tc.cfg)
			require.ErrorIs(t, err, tc.want)
		})
	}
	// Without an FEC constructor RecoveryFEC is refused clearly.
	saved := fecFactory
	RegisterFEC(nil)
	defer RegisterFEC(saved)
	_, err := ListenAddr("127.0.0.1:0", &Config{Recovery: RecoveryFEC})
	require.ErrorIs(t, err, ErrNotImplemented)
	_, err = DialAddr(context.Background(), "127.0.0.1:1", &Config{Recovery: RecoveryFEC})
	require.ErrorIs(t, err, ErrNotImplemented)
}

func TestCloseFlushesBothDirections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 20 * time.Millisecond, Loss: 0.05}
		e := newNetemEnv(t, 3, p, p, nil, nil)
		a, b := randomData(300<<10, 1), randomData(200<<10, 2)
		// Both sides write and close at once; each must still receive all
		// of the other's data before its Close returns.
		done := make(chan []byte, 2)
		for _, x := range []struct {
			s    *Session
			data []byte
		}{{e.c, a}, {e.s, b}} {
			go func() {
				_, err := x.s.Write(x.data)
				require.NoError(t, err)
				require.NoError(t, x.s.Close())
				done <- nil
			}()
		}
		gotB, err := io.ReadAll(e.c)
		if err != nil {
			// Close was called concurrently: the application is done; the
			// data was still delivered to the transport (checked below).
			require.ErrorIs(t, err, net.ErrClosed)
		}
		<-done
		<-done
		_ = gotB
		require.Equal(t, uint64(len(a)), e.c.Stats().DataBytesSent)
		require.Equal(t, uint64(len(b)), e.s.Stats().DataBytesSent)
		// Close returning nil is the proof that everything written was
		// acknowledged. (BytesInFlight may still count a packet whose
		// frames a retransmitted copy got acknowledged: its own ack can
		// arrive during the linger, after Close returned.)
		e.close(t)
	})
}

func TestWriteThenCloseDeliversEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 15 * time.Millisecond, Loss: 0.1, Jitter: 3 * time.Millisecond, AllowReorder: true}
		e := newNetemEnv(t, 4, p, p, nil, nil)
		data := randomData(1<<20, 5)
		got := sendAll(t, e.c, e.s, data)
		requireSameData(t, data, got)
		e.close(t)
	})
}

func TestDeadPeerDetectedWithinIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond}
		cfg := &Config{IdleTimeout: 3 * time.Second, KeepAlive: time.Second}
		e := newNetemEnv(t, 5, p, p, cfg, cfg)
		// Idle but alive: keepalives keep the session up past the timeout.
		time.Sleep(10 * time.Second)
		require.NoError(t, e.c.Err())
		// The link dies.
		down := netem.Profile{Down: true}
		require.NoError(t, e.link.AToB().SetProfile(down))
		require.NoError(t, e.link.BToA().SetProfile(down))
		start := time.Now()
		_, err := e.c.Read(make([]byte, 10))
		require.ErrorIs(t, err, ErrIdleTimeout)
		require.LessOrEqual(t, time.Since(start), 3*time.Second+100*time.Millisecond)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout())
		<-e.s.Done()
		require.ErrorIs(t, e.s.Err(), ErrIdleTimeout)
		e.close(t)
	})
}

func TestAbortResetsPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond}
		e := newNetemEnv(t, 6, p, p, nil, nil)
		require.NoError(t, e.c.Abort())
		_, err := e.s.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrReset)
		_, err = e.c.Write([]byte("x"))
		require.Error(t, err)
		e.close(t)
	})
}

func TestForgedHellosCreateNoSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netem.NewNetwork(1)
		spc, err := n.ListenPacket(serverHost + ":5000")
		require.NoError(t, err)
		l, err := Listen(spc, nil)
		require.NoError(t, err)
		attacker, err := n.ListenPacket("10.0.0.66:4000")
		require.NoError(t, err)
		var got [2048]byte
		received := 0
		go func() {
			for {
				k, _, err := attacker.ReadFrom(got[:])
				if err != nil {
					return
				}
				received += k
			}
		}()
		sent := 0
		send := func(p *rudp.Packet) {
			b := p.AppendTo(nil)
			sent += len(b)
			_, err := attacker.WriteTo(b, spc.LocalAddr())
			require.NoError(t, err)
		}
		for i := 0; i < 100; i++ {
			// A hello without cookie, one with a forged cookie, one with
			// a cookie issued to another address.
			h := rudp.Packet{Header: rudp.Header{Version: rudp.Version, Type: rudp.TypeHello, ConnID: uint64(i + 1)}}
			send(&h)
			h.Handshake.Cookie = make([]byte, cookieSize)
			send(&h)
			h.Handshake.Cookie = l.jar.issue(nil, time.Now(), netipMust("10.0.0.1:9"), uint64(i+1))
			send(&h)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		l.tr.mu.Lock()
		require.Empty(t, l.tr.sessions)
		l.tr.mu.Unlock()
		require.LessOrEqual(t, received, 3*sent, "amplification")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = l.AcceptSession(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		l.Close()
		attacker.Close()
		n.Close()
		spc.Close()
	})
}

// nat is a test NAT on host 10.0.0.3: the client talks to its inside
// address; it forwards to the server from an outside socket that rebind
// replaces (a new external port), like a NAT whose mapping expired.
type nat struct {
	n       *netem.Network
	inside  *netem.Conn
	server  net.Addr
	mu      sync.Mutex
	outside *netem.Conn
	client  net.Addr
	all     []*netem.Conn
	wg      sync.WaitGroup
}

func newNAT(t testing.TB, n *netem.Network, server net.Addr) *nat {
	in, err := n.ListenPacket("10.0.0.3:7000")
	require.NoError(t, err)
	x := &nat{n: n, inside: in, server: server}
	x.rebind(t)
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		buf := make([]byte, 2048)
		for {
			k, from, err := in.ReadFrom(buf)
			if err != nil {
				return
			}
			x.mu.Lock()
			x.client = from
			out := x.outside
			x.mu.Unlock()
			out.WriteTo(buf[:k], server)
		}
	}()
	return x
}

func (x *nat) rebind(t testing.TB) {
	out, err := x.n.ListenPacket("10.0.0.3:0")
	require.NoError(t, err)
	x.mu.Lock()
	x.outside = out
	x.all = append(x.all, out)
	x.mu.Unlock()
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		buf := make([]byte, 2048)
		for {
			k, _, err := out.ReadFrom(buf)
			if err != nil {
				return
			}
			x.mu.Lock()
			c := x.client
			x.mu.Unlock()
			x.inside.WriteTo(buf[:k], c)
		}
	}()
}

func (x *nat) close() {
	x.inside.Close()
	x.mu.Lock()
	for _, c := range x.all {
		c.Close()
	}
	x.mu.Unlock()
	x.wg.Wait()
}

func TestNATRebindingKeepsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netem.NewNetwork(8)
		p := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 20e6, Loss: 0.01}
		_, err := n.Link("10.0.0.3", serverHost, p, p)
		require.NoError(t, err)
		spc, err := n.ListenPacket(serverHost + ":5000")
		require.NoError(t, err)
		l, err := Listen(spc, nil)
		require.NoError(t, err)
		x := newNAT(t, n, spc.LocalAddr())
		cpc, err := n.ListenPacket(clientHost + ":0")
		require.NoError(t, err)
		acc := make(chan *Session, 1)
		go func() { s, _ := l.AcceptSession(context.Background()); acc <- s }()
		c, err := Dial(context.Background(), cpc, x.inside.LocalAddr(), nil)
		require.NoError(t, err)
		s := <-acc
		first := s.RemoteAddr().String()
		data := randomData(2<<20, 9)
		go func() {
			time.Sleep(300 * time.Millisecond) // mid-transfer
			x.rebind(t)
		}()
		got := sendAll(t, c, s, data)
		requireSameData(t, data, got)
		require.NotEqual(t, first, s.RemoteAddr().String())
		x.mu.Lock()
		require.Equal(t, x.outside.LocalAddr().String(), s.RemoteAddr().String())
		x.mu.Unlock()
		require.GreaterOrEqual(t, s.Stats().AddressChanges, uint64(1))
		c.Close()
		s.Close()
		l.Close()
		waitDone(t, c, s)
		x.close()
		n.Close()
		cpc.Close()
		spc.Close()
	})
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestCloseTimesOutWhenPeerNeverReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond}
		cfg := &Config{CloseTimeout: 2 * time.Second, ReceiveBufferSize: 64 << 10}
		e := newNetemEnv(t, 14, p, p, cfg, cfg)
		// Fill the peer's window; it never reads.
		e.c.SetWriteDeadline(time.Now().Add(time.Second))
		for {
			if _, err := e.c.Write(make([]byte, 32<<10)); err != nil {
				break
			}
		}
		start := time.Now()
		require.ErrorIs(t, e.c.Close(), ErrCloseTimeout)
		require.InDelta(t, 2*time.Second, time.Since(start), float64(100*time.Millisecond))
		_, err := e.s.Read(make([]byte, 1<<20)) // buffered data first
		require.NoError(t, err)
		e.close(t)
	})
}

func TestMTUNegotiation(t *testing.T) {
	noPMTUD := func(mtu int) Config { return Config{MTU: mtu, DisablePathMTUDiscovery: true} }
	tests := []struct {
		name             string
		client, server   Config
		wantClientPacket int
	}{
		{"client_larger_uses_server_mtu", noPMTUD(1400), noPMTUD(1200), 1200},
		{"server_larger_uses_client_mtu", noPMTUD(1000), noPMTUD(1400), 1000},
		{"jumbo_both", noPMTUD(9000), noPMTUD(9000), 9000},
		// With discovery, the handshake carries each side's largest
		// datagram: the client starts at min(its MTU, the server's) and
		// never exceeds the server's limit.
		{"server_max_datagram_bounds_discovery", Config{MTU: 1400}, Config{MaxDatagramSize: 1300}, 1300},
		{"discovery_reaches_default_ceiling", Config{}, Config{}, DefaultMaxDatagramSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := netem.Profile{Delay: 5 * time.Millisecond, Loss: 0.02}
				e := newNetemEnv(t, 15, p, p, &tc.client, &tc.server)
				var largest atomic.Int64
				e.link.AToB().DropNth(1<<62, func(pkt []byte) bool {
					if n := int64(len(pkt)); n > largest.Load() {
						largest.Store(n)
					}
					return false
				})
				data := randomData(1<<20, 6)
				requireSameData(t, data, sendAll(t, e.c, e.s, data))
				require.Equal(t, int64(tc.wantClientPacket), largest.Load())
				e.close(t)
			})
		})
	}
}

func TestFlowControlNeverOverruns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 5 * time.Millisecond}
		cfg := &Config{ReceiveBufferSize: 32 << 10}
		e := newNetemEnv(t, 16, p, p, cfg, cfg)
		data := randomData(1<<20, 7)
		go func() {
			e.c.Write(data)
		}()
		// The receiver reads slowly; the sender must stay within the
		// window: the receiver never drops a frame for being beyond it and
		// never holds more than the window.
		got := make([]byte, 0, len(data))
		buf := make([]byte, 4<<10)
		for len(got) < len(data) {
			time.Sleep(10 * time.Millisecond)
			e.s.mu.Lock()
			held := e.s.recvBytes
			e.s.mu.Unlock()
			require.LessOrEqual(t, held, 32<<10+int(e.s.c.maxPayload))
			n, err := e.s.Read(buf)
			require.NoError(t, err)
			got = append(got, buf[:n]...)
		}
		requireSameData(t, data, got)
		require.Zero(t, e.s.Stats().OutOfWindow)
		e.close(t)
	})
}

func TestBadInputDroppedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 5 * time.Millisecond}
		e := newNetemEnv(t, 17, p, p, nil, nil)
		attacker, err := e.net.ListenPacket("10.0.0.9:1")
		require.NoError(t, err)
		id := e.s.ConnectionID()
		good := rudp.Packet{Header: rudp.Header{Version: rudp.Version, Type: rudp.TypeData, ConnID: id, PacketNumber: 1 << 20}}
		good.Data = rudp.DataFrame{Kind: rudp.KindStream, Flags: rudp.FrameFirst | rudp.FrameLast, Seq: 1 << 30, Payload: []byte("evil")}
		valid := good.AppendTo(nil)
		corrupt := append([]byte(nil), valid...)
		corrupt[len(corrupt)-6] ^= 1
		badVersion := append([]byte(nil), valid...)
		badVersion[0] = 7
		good.Header.PacketNumber = 1 << 31
		farPN := good.AppendTo(nil)
		inputs := [][]byte{
			nil, {1}, valid[:20], corrupt, badVersion,
			valid, // packet number 2^20: out of window
			farPN,
		}
		for _, b := range inputs {
			attacker.WriteTo(b, e.spc.LocalAddr())
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		st := e.s.Stats()
		require.Equal(t, uint64(1), st.BadChecksum)
		require.Equal(t, uint64(2), st.OutOfWindow)
		require.Equal(t, e.cpc.LocalAddr().String(), e.s.RemoteAddr().String(), "no hijack")
		// The session still works.
		data := randomData(100<<10, 8)
		requireSameData(t, data, sendAll(t, e.c, e.s, data))
		attacker.Close()
		e.close(t)
	})
}

func TestHandshakeSurvivesLostPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netem.NewNetwork(18)
		p := netem.Profile{Delay: 20 * time.Millisecond}
		link, err := n.Link(clientHost, serverHost, p, p)
		require.NoError(t, err)
		typ := func(want rudp.PacketType) func([]byte) bool {
			return func(b []byte) bool { _, t, _ := rudp.PeekConnID(b); return t == want }
		}
		link.AToB().DropNth(1, typ(rudp.TypeHello))  // the first hello
		link.BToA().DropNth(1, typ(rudp.TypeRetry))  // the first retry
		link.BToA().DropNth(1, typ(rudp.TypeAccept)) // the first accept
		spc, _ := n.ListenPacket(serverHost + ":5000")
		cpc, _ := n.ListenPacket(clientHost + ":0")
		l, err := Listen(spc, nil)
		require.NoError(t, err)
		start := time.Now()
		c, err := Dial(context.Background(), cpc, spc.LocalAddr(), nil)
		require.NoError(t, err)
		t.Logf("handshake with three losses took %v", time.Since(start))
		s, err := l.AcceptSession(context.Background())
		require.NoError(t, err)
		data := randomData(10<<10, 1)
		requireSameData(t, data, sendAll(t, c, s, data))
		closeBoth(c, s)
		l.Close()
		waitDone(t, c, s)
		n.Close()
		cpc.Close()
		spc.Close()
	})
}

func TestHandshakeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netem.NewNetwork(19)
		cpc, _ := n.ListenPacket(clientHost + ":0")
		start := time.Now()
		_, err := Dial(context.Background(), cpc, netipAddr("10.0.0.2:5000"), &Config{HandshakeTimeout: 3 * time.Second})
		require.ErrorIs(t, err, ErrHandshakeTimeout)
		require.InDelta(t, 3*time.Second, time.Since(start), float64(10*time.Millisecond))
		n.Close()
		cpc.Close()
	})
}

func netipAddr(s string) net.Addr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
