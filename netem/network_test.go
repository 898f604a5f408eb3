package netem

import (
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

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
