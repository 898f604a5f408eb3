package tcp

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// connectedPair returns a Pair with an established connection A→B:5001.
func connectedPair(t *testing.T, prof netem.Profile, cfg Config) (*Pair, *Conn, *Conn) {
	t.Helper()
	p, err := NewPair(prof, prof, 11, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	l, err := p.B.Listen(5001)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	a, err := p.A.Dial(netip.AddrPortFrom(PairAddrB, 5001))
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b)
	return p, a, b
}

func TestConnDialRefusedWithoutListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPair(netem.Profile{Delay: time.Millisecond}, netem.Profile{Delay: time.Millisecond}, 1, Config{})
		require.NoError(t, err)
		defer p.Close()
		_, err = p.A.Dial(netip.AddrPortFrom(PairAddrB, 9))
		require.ErrorIs(t, err, ErrConnectionRefused)
		require.EqualValues(t, 1, p.B.Stats().ResetsSent)
	})
}

func TestConnDialTimesOutOnDeadLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPair(netem.Profile{Down: true}, netem.Profile{}, 1, Config{SYNRetries: 2})
		require.NoError(t, err)
		defer p.Close()
		start := time.Now()
		_, err = p.A.Dial(netip.AddrPortFrom(PairAddrB, 9))
		require.ErrorIs(t, err, ErrTimeout)
		require.Equal(t, 7*time.Second, time.Since(start)) // 1 + 2 + 4 s of SYN back-off
	})
}

func TestConnDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := connectedPair(t, netem.Profile{Delay: time.Millisecond}, Config{SendBuffer: 4096})
		require.NoError(t, a.SetReadDeadline(time.Now().Add(time.Second)))
		start := time.Now()
		_, err := a.Read(make([]byte, 10))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout())
		require.Equal(t, time.Second, time.Since(start))
		// A write that cannot finish (the peer does not read) times out.
		require.NoError(t, a.SetWriteDeadline(time.Now().Add(time.Second)))
		n, err := a.Write(make([]byte, 10<<20))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Less(t, n, 10<<20)
		require.Positive(t, n)
		// Clearing the deadline lets reads work again.
		require.NoError(t, a.SetReadDeadline(time.Time{}))
		_, err = b.Write([]byte("ping"))
		require.NoError(t, err)
		buf := make([]byte, 4)
		_, err = io.ReadFull(a, buf)
		require.NoError(t, err)
		require.Equal(t, "ping", string(buf))
	})
}

func TestConnUseAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := connectedPair(t, netem.Profile{Delay: time.Millisecond}, Config{MSL: time.Second})
		require.NoError(t, a.Close())
		_, err := a.Read(make([]byte, 1))
		require.ErrorIs(t, err, net.ErrClosed)
		_, err = a.Write([]byte("x"))
		require.ErrorIs(t, err, net.ErrClosed)
		require.ErrorIs(t, a.Close(), net.ErrClosed)
		_, err = b.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
		require.NoError(t, b.Close())
		<-a.Done()
		<-b.Done()
		require.NoError(t, a.Err())
		require.NoError(t, b.Err())
	})
}

func TestConnResetReachesPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := connectedPair(t, netem.Profile{Delay: time.Millisecond}, Config{})
		a.Abort()
		_, err := b.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrConnectionReset)
		_, err = b.Write([]byte("x"))
		require.ErrorIs(t, err, ErrConnectionReset)
	})
}

func TestStackCloseAbortsConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, a, b := connectedPair(t, netem.Profile{Delay: time.Millisecond}, Config{})
		done := make(chan error, 1)
		go func() {
			_, err := b.Read(make([]byte, 1))
			done <- err
		}()
		require.NoError(t, p.A.Close())
		_, err := a.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrStackClosed)
		require.ErrorIs(t, <-done, ErrConnectionReset) // the abort's RST got out first
		_, err = p.A.Dial(netip.AddrPortFrom(PairAddrB, 5001))
		require.ErrorIs(t, err, ErrStackClosed)
	})
}

func TestListenerCloseUnblocksAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPair(netem.Profile{}, netem.Profile{}, 1, Config{})
		require.NoError(t, err)
		defer p.Close()
		l, err := p.B.Listen(80)
		require.NoError(t, err)
		_, err = p.B.Listen(80)
		require.Error(t, err)
		errc := make(chan error)
		go func() {
			_, err := l.Accept()
			errc <- err
		}()
		synctest.Wait()
		require.NoError(t, l.Close())
		require.ErrorIs(t, <-errc, net.ErrClosed)
		_, err = p.A.Dial(netip.AddrPortFrom(PairAddrB, 80))
		require.ErrorIs(t, err, ErrConnectionRefused)
		require.Equal(t, "10.99.0.2:80", l.Addr().String())
	})
}

func TestKeepAliveDetectsDeadPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{KeepAlive: 10 * time.Second, KeepAliveInterval: time.Second, KeepAliveProbes: 3}
		p, a, b := connectedPair(t, netem.Profile{Delay: time.Millisecond}, cfg)
		time.Sleep(30 * time.Second) // idle, probes answered
		require.Equal(t, StateEstablished, a.State())
		require.NoError(t, p.Link.BToA().SetProfile(netem.Profile{Down: true}))
		require.NoError(t, p.Link.AToB().SetProfile(netem.Profile{Down: true}))
		start := time.Now()
		_, err := a.Read(make([]byte, 1))
		require.ErrorIs(t, err, ErrTimeout)
		require.Less(t, time.Since(start), 20*time.Second)
		_ = b
	})
}

func TestSYNFloodIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPair(netem.Profile{}, netem.Profile{}, 1, Config{})
		require.NoError(t, err)
		defer p.Close()
		l, err := p.B.Listen(80)
		require.NoError(t, err)
		spoofed := netip.MustParseAddr("10.99.0.3") // nobody answers its SYN-ACKs
		for i := range maxHalfOpen + 44 {
			syn := Header{SrcPort: uint16(10000 + i), DstPort: 80, Seq: uint32(i), Flags: FlagSYN, Window: 1000}
			ih := ipv4.Header{TotalLength: uint16(20 + syn.MarshalSize()), TTL: 64, Protocol: ipv4.ProtocolTCP, Src: spoofed, Dst: PairAddrB}
			pkt := syn.AppendTo(ih.AppendTo(nil))
			SetChecksum(pkt[20:], spoofed, PairAddrB)
			require.NoError(t, p.B.do(func(now time.Time) { p.B.handlePacket(now, pkt) }))
		}
		require.EqualValues(t, 44, p.B.Stats().DroppedSYNs)
		half := func() (n int) {
			require.NoError(t, p.B.do(func(time.Time) { n = l.halfOpen }))
			return n
		}
		require.Equal(t, maxHalfOpen, half())
		time.Sleep(3 * time.Minute) // SYN-ACK retries exhausted
		require.Zero(t, half())
		require.NoError(t, p.B.do(func(time.Time) { require.Empty(t, p.B.conns) }))
	})
}
