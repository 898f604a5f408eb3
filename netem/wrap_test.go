package netem

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWrapImpairsWritesOfAnyPacketConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := NewNetwork(1)
		defer nw.Close()
		a, err := nw.ListenPacket("10.0.0.1:1")
		require.NoError(t, err)
		b, err := nw.ListenPacket("10.0.0.2:2")
		require.NoError(t, err)
		w, err := Wrap(a, Profile{Delay: 20 * time.Millisecond}, 1)
		require.NoError(t, err)
		defer w.Close()
		w.Pipe().DropNth(2, nil)
		start := time.Now()
		for _, s := range []string{"one", "two", "three"} {
			_, err := w.WriteTo([]byte(s), b.LocalAddr())
			require.NoError(t, err)
		}
		buf := make([]byte, 10)
		for _, want := range []string{"one", "three"} {
			k, from, err := b.ReadFrom(buf)
			require.NoError(t, err)
			require.Equal(t, want, string(buf[:k]))
			require.Equal(t, "10.0.0.1:1", from.String())
		}
		require.Equal(t, 20*time.Millisecond, time.Since(start))
		require.Equal(t, uint64(1), w.Pipe().Stats().DroppedScript)
		require.NoError(t, w.Close())
		_, err = w.WriteTo([]byte("x"), b.LocalAddr())
		require.ErrorIs(t, err, net.ErrClosed)
	})
}

func TestWrapRealUDPSocket(t *testing.T) {
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	b, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer b.Close()
	w, err := Wrap(a, Profile{Delay: 30 * time.Millisecond}, 1)
	require.NoError(t, err)
	defer w.Close()
	start := time.Now()
	_, err = w.WriteTo([]byte("hello"), b.LocalAddr())
	require.NoError(t, err)
	require.NoError(t, b.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 10)
	k, from, err := b.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:k]))
	require.Equal(t, a.LocalAddr().String(), from.String())
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}

func TestProxyBetweenLoopbackAddresses(t *testing.T) {
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	echoDone := make(chan struct{})
	go func() {
		defer close(echoDone)
		buf := make([]byte, 2000)
		for {
			k, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:k], from)
		}
	}()
	defer func() { echo.Close(); <-echoDone }()

	px, err := NewProxy("127.0.0.1:0", echo.LocalAddr().String(),
		Profile{Delay: 20 * time.Millisecond}, Profile{Delay: 30 * time.Millisecond}, 1)
	require.NoError(t, err)
	defer px.Close()
	cl, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer cl.Close()

	px.FromTarget().DropNth(1, nil) // the first reply is lost
	buf := make([]byte, 100)
	for i, msg := range []string{"lost reply", "ping"} {
		start := time.Now()
		_, err = cl.WriteTo([]byte(msg), px.Addr())
		require.NoError(t, err)
		require.NoError(t, cl.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
		k, _, err := cl.ReadFrom(buf)
		if i == 0 {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, msg, string(buf[:k]))
		require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	}
	require.Equal(t, cl.LocalAddr().(*net.UDPAddr).AddrPort(), px.Client())
	require.Equal(t, uint64(2), px.ToTarget().Stats().DeliveredPackets)
	require.Equal(t, uint64(1), px.FromTarget().Stats().DroppedScript)

	_, err = NewProxy("127.0.0.1:0", "127.0.0.1:9", Profile{Loss: 2}, Profile{}, 1)
	require.ErrorContains(t, err, "toTarget")
}
