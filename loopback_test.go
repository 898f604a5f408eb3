package skiff

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"
)

// loopbackPair returns a connected session pair over real loopback UDP.
func loopbackPair(t testing.TB, cfg *Config) (client, server *Session, stop func()) {
	l, err := ListenAddr("127.0.0.1:0", cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acc := make(chan *Session, 1)
	go func() {
		s, err := l.AcceptSession(ctx)
		if err != nil {
			t.Error(err)
		}
		acc <- s
	}()
	c, err := DialAddr(ctx, l.Addr().String(), cfg)
	require.NoError(t, err)
	s := <-acc
	require.NotNil(t, s)
	return c, s, func() {
		closeBoth(c, s)
		l.Close()
		waitDone(t, c, s)
	}
}

func TestLoopbackTransfer(t *testing.T) {
	c, s, stop := loopbackPair(t, nil)
	defer stop()
	want := make([]byte, 4<<20)
	rand.New(rand.NewSource(1)).Read(want)
	go func() {
		_, err := c.Write(want)
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}()
	got, err := io.ReadAll(s)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "got %d bytes", len(got))
	t.Logf("client %+v", c.Stats())
}

// waitDone waits until the sessions' run loops (and their linger) ended.
func waitDone(t testing.TB, ss ...*Session) {
	for i, x := range ss {
		select {
		case <-x.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("session %d did not end: %+v", i, x.Stats())
		}
	}
}

func TestNettestLoopback(t *testing.T) {
	nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) {
		c, s, stop := loopbackPair(t, nil)
		return c, s, stop, nil
	})
}

// closeBoth closes both ends concurrently, as two independent programs
// would (closing one and then the other would make the first wait for the
// second to read).
func closeBoth(a, b *Session) {
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	b.Close()
	<-done
}
