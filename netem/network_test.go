package netem

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNetworkEchoOverLinkFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		defer n.Close()
		_, err := n.Link("10.0.0.1", "10.0.0.2", Profile{Delay: 50 * time.Millisecond}, Profile{Delay: 30 * time.Millisecond})
		require.NoError(t, err)
		a, err := n.ListenPacket("10.0.0.1:0")
		require.NoError(t, err)
		b, err := n.ListenPacket("10.0.0.2:7")
		require.NoError(t, err)
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := b.ReadFrom(buf)
				if err != nil {
					return
				}
				b.WriteTo(buf[:k], from)
			}
		}()
		start := time.Now()
		_, err = a.WriteTo([]byte("ping"), b.LocalAddr())
		require.NoError(t, err)
		buf := make([]byte, 100)
		k, from, err := a.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, "ping", string(buf[:k]))
		require.Equal(t, b.LocalAddr().String(), from.String())
		require.IsType(t, &net.UDPAddr{}, from)
		require.Equal(t, 80*time.Millisecond, time.Since(start))
		require.Equal(t, "10.0.0.1:49152", a.LocalAddr().String())
	})
}

func TestConnDeadlineAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		defer n.Close()
		c, err := n.ListenPacket("10.0.0.1:1")
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, c.SetReadDeadline(start.Add(time.Second)))
		_, _, err = c.ReadFrom(make([]byte, 10))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout())
		require.Equal(t, time.Second, time.Since(start))

		require.NoError(t, c.SetReadDeadline(time.Time{}))
		done := make(chan error)
		go func() { _, _, err := c.ReadFrom(make([]byte, 10)); done <- err }()
		time.Sleep(time.Hour)
		require.NoError(t, c.Close())
		require.ErrorIs(t, <-done, net.ErrClosed)
		_, err = c.WriteTo([]byte("x"), c.LocalAddr())
		require.ErrorIs(t, err, net.ErrClosed)
	})
}

func TestNetworkErrors(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	_, err := n.ListenPacket("10.0.0.1:5")
	require.NoError(t, err)
	_, err = n.ListenPacket("10.0.0.1:5")
	require.ErrorIs(t, err, ErrAddrInUse)
	_, err = n.ListenPacket("0.0.0.0:5")
	require.ErrorContains(t, err, "wildcard")
	_, err = n.ListenPacket("nohost")
	require.Error(t, err)

	_, err = n.Link("10.0.0.1", "10.0.0.1", Profile{}, Profile{})
	require.ErrorContains(t, err, "same host")
	_, err = n.Link("10.0.0.1", "bad", Profile{}, Profile{})
	require.ErrorContains(t, err, "hostB")
	_, err = n.Link("10.0.0.1", "10.0.0.2", Profile{}, Profile{MTU: -1})
	require.ErrorContains(t, err, "bToA")
	require.ErrorContains(t, err, "MTU")
	_, err = n.Link("10.0.0.1", "10.0.0.2", Profile{}, Profile{})
	require.NoError(t, err)
	_, err = n.Link("10.0.0.2", "10.0.0.1", Profile{}, Profile{})
	require.ErrorContains(t, err, "already linked")

	require.NoError(t, n.Close())
	_, err = n.ListenPacket("10.0.0.1:6")
	require.ErrorIs(t, err, net.ErrClosed)
}

func TestConnWriteDeadlineAndOversizedDatagram(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		defer n.Close()
		c, err := n.ListenPacket("[fd00::1]:9")
		require.NoError(t, err)
		require.Equal(t, "[fd00::1]:9", c.LocalAddr().String())
		_, err = c.WriteTo(make([]byte, MaxDatagram+1), c.LocalAddr())
		require.ErrorIs(t, err, ErrMessageTooLong)
		require.NoError(t, c.SetWriteDeadline(time.Now().Add(time.Second)))
		_, err = c.WriteTo([]byte("ok"), c.LocalAddr())
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		_, err = c.WriteTo([]byte("late"), c.LocalAddr())
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NoError(t, c.SetDeadline(time.Time{}))
		_, err = c.WriteTo([]byte("again"), c.LocalAddr())
		require.NoError(t, err)
	})
}

func TestConnReceiveQueueOverflowDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		defer n.Close()
		a, _ := n.ListenPacket("10.0.0.1:1")
		b, _ := n.ListenPacket("10.0.0.2:1")
		for range DefaultRecvQueue + 10 {
			a.WriteTo([]byte("x"), b.LocalAddr())
		}
		require.Equal(t, uint64(10), b.Dropped())
	})
}

// TestNetworkConcurrentTrafficAndClose runs many writers and readers over
// impaired links in real time and closes the network under them; goleak (in
// TestMain) checks that every goroutine stopped.
func TestNetworkConcurrentTrafficAndClose(t *testing.T) {
	n := NewNetwork(3)
	prof := Profile{Delay: time.Millisecond, Jitter: 500 * time.Microsecond, Loss: 0.1, Duplicate: 0.05,
		Bandwidth: 50_000_000, QueueBytes: 20_000, AllowReorder: true}
	_, err := n.Link("10.0.0.1", "10.0.0.2", prof, prof)
	require.NoError(t, err)
	var conns []*Conn
	for i := range 4 {
		c, err := n.ListenPacket(fmt.Sprintf("10.0.0.%d:0", 1+i%2))
		require.NoError(t, err)
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		peer := conns[(i+1)%len(conns)].LocalAddr()
		wg.Add(2)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					assert.ErrorIs(t, err, net.ErrClosed)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			pkt := make([]byte, 1000)
			for {
				if _, err := c.WriteTo(pkt, peer); err != nil {
					assert.ErrorIs(t, err, net.ErrClosed)
					return
				}
				time.Sleep(10 * time.Microsecond)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, n.Close())
	wg.Wait()
}
