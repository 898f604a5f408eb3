package skiff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand"
	"testing"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

const (
	clientHost = "10.0.0.1"
	serverHost = "10.0.0.2"
)

// netemEnv is a client/server session pair over an emulated link.
type netemEnv struct {
	net    *netem.Network
	link   *netem.Link
	l      *Listener
	c, s   *Session
	cpc    *netem.Conn
	spc    *netem.Conn
	cancel context.CancelFunc
}

// newNetemEnv links client and server with the given profiles (client→server,
// server→client) and establishes a session. Call inside a synctest bubble
// for fake time.
// seededConfig returns cfg (nil: the defaults) with CongestionSeed set to
// seed unless it has one, so that a fake-time test's congestion controller
// behaves the same on every run (the default derives it from the random
// connection ID).
func seededConfig(cfg *Config, seed int64) *Config {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.CongestionSeed == 0 {
		c.CongestionSeed = uint64(seed)
	}
	return &c
}

func newNetemEnv(t testing.TB, seed int64, up, down netem.Profile, ccfg, scfg *Config) *netemEnv {
	t.Helper()
	ccfg, scfg = seededConfig(ccfg, seed*1000+1), seededConfig(scfg, seed*1000+2)
	e := &netemEnv{net: netem.NewNetwork(seed)}
	var err error
	e.link, err = e.net.Link(clientHost, serverHost, up, down)
	require.NoError(t, err)
	e.spc, err = e.net.ListenPacket(serverHost + ":5000")
	require.NoError(t, err)
	e.cpc, err = e.net.ListenPacket(clientHost + ":0")
	require.NoError(t, err)
	e.l, err = Listen(e.spc, scfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.cancel = cancel
	acc := make(chan *Session, 1)
	go func() {
		s, _ := e.l.AcceptSession(ctx)
		acc <- s
	}()
	e.c, err = Dial(ctx, e.cpc, e.spc.LocalAddr(), ccfg)
	require.NoError(t, err)
	e.s = <-acc
	require.NotNil(t, e.s)
	return e
}

// close closes everything and waits for all goroutines of the pair.
func (e *netemEnv) close(t testing.TB) {
	closeBoth(e.c, e.s)
	e.l.Close()
	waitDone(t, e.c, e.s)
	e.cancel()
	e.net.Close()
	e.cpc.Close()
	e.spc.Close()
}

// sendAll writes data from src and closes it; the receiver reads it all.
// It returns the data received and the sender's Close error.
func sendAll(t testing.TB, src, dst *Session, data []byte) []byte {
	errc := make(chan error, 1)
	go func() {
		if _, err := src.Write(data); err != nil {
			errc <- err
			return
		}
		errc <- src.Close()
	}()
	got, err := io.ReadAll(dst)
	require.NoError(t, err)
	require.NoError(t, <-errc)
	return got
}

func randomData(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func requireSameData(t testing.TB, want, got []byte) {
	t.Helper()
	if !bytes.Equal(want, got) {
		t.Fatalf("data differs: sent %d bytes (sha256 %x), received %d bytes (sha256 %x)",
			len(want), sha256.Sum256(want), len(got), sha256.Sum256(got))
	}
}
