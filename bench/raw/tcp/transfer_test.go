package tcp

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// testData returns n seeded pseudo-random bytes.
func testData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// halfCloser is a net.Conn with CloseWrite (*Conn, *net.TCPConn).
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// exchange writes out on c (then half-closes) while reading everything the
// peer sends until EOF; it returns what it read.
func exchange(t *testing.T, c halfCloser, out []byte) []byte {
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for p := out; len(p) > 0; {
			n, err := c.Write(p[:min(len(p), 32<<10)])
			if err != nil {
				werr = err
				return
			}
			p = p[n:]
		}
		werr = c.CloseWrite()
	}()
	in, rerr := io.ReadAll(c)
	wg.Wait()
	require.NoError(t, werr)
	require.NoError(t, rerr)
	return in
}

// runPairTransfer moves size bytes each way between two Stacks over netem
// with profile prof in both directions and checks them by SHA-256.
func runPairTransfer(t *testing.T, prof netem.Profile, seed int64, size int, cfg Config) (a, b ConnStats, elapsed time.Duration) {
	cfg.MSL, cfg.checkScoreboard = time.Second, true
	var mu sync.Mutex
	var ring []string
	cfg.trace = func(local netip.Addr, out bool, h *Header, n int) {
		mu.Lock()
		defer mu.Unlock()
		dir := "<"
		if out {
			dir = ">"
		}
		ring = append(ring, fmt.Sprintf("%v %v %s %v len=%d", time.Now().UnixMilli()%1000000, local, dir, h, n))
		if len(ring) > 400 {
			ring = ring[100:]
		}
	}
	defer func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			for _, l := range ring {
				t.Log(l)
			}
		}
	}()
	p, err := NewPair(prof, prof, seed, cfg)
	require.NoError(t, err)
	defer p.Close()
	l, err := p.B.Listen(5001)
	require.NoError(t, err)
	defer l.Close()

	dataA, dataB := testData(uint64(seed), size), testData(uint64(seed)+100, size)
	start := time.Now()
	var wg sync.WaitGroup
	var gotAtB []byte
	var srv *Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		srv, err = l.AcceptTCP()
		if err != nil {
			t.Error(err)
			return
		}
		gotAtB = exchange(t, srv, dataB)
	}()
	cli, err := p.A.Dial(netip.AddrPortFrom(PairAddrB, 5001))
	require.NoError(t, err)
	gotAtA := exchange(t, cli, dataA)
	wg.Wait()
	elapsed = time.Since(start)
	require.NotNil(t, srv)
	require.Equal(t, sha256.Sum256(dataA), sha256.Sum256(gotAtB), "A→B bytes differ (got %d of %d)", len(gotAtB), size)
	require.Equal(t, sha256.Sum256(dataB), sha256.Sum256(gotAtA), "B→A bytes differ (got %d of %d)", len(gotAtA), size)
	a, b = cli.Stats(), srv.Stats()
	require.NoError(t, cli.Close())
	require.NoError(t, srv.Close())
	// Both close cleanly: one side passes TIME-WAIT (2·MSL), the other LAST-ACK or TIME-WAIT.
	for _, c := range []*Conn{cli, srv} {
		select {
		case <-c.Done():
		case <-time.After(time.Minute):
			t.Fatalf("connection %v stuck in %v", c.LocalAddr(), c.State())
		}
		require.NoError(t, c.Err())
	}
	return a, b, elapsed
}

func TestPairTransfer1MiB(t *testing.T) {
	cases := []struct {
		name   string
		loss   float64
		noSACK bool
	}{
		{"no_loss", 0, false},
		{"loss_1pct", 0.01, false},
		{"loss_5pct", 0.05, false},
		{"loss_1pct_newreno", 0.01, true},
		{"loss_5pct_newreno", 0.05, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				prof := netem.Profile{Delay: 10 * time.Millisecond, Loss: tc.loss}
				a, b, el := runPairTransfer(t, prof, 7, 1<<20, Config{DisableSACK: tc.noSACK})
				t.Logf("1 MiB each way in %v (fake time); A: %+v; B: %+v", el, a, b)
			})
		})
	}
}

// TestPairTransferManySeeds runs smaller transfers across harsher links
// (jitter with reordering, duplicates, corruption, a bottleneck queue) with
// several seeds, with and without SACK.
func TestPairTransferManySeeds(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		for _, loss := range []float64{0.02, 0.1} {
			synctest.Test(t, func(t *testing.T) {
				prof := netem.Profile{Delay: 5 * time.Millisecond, Jitter: 2 * time.Millisecond, AllowReorder: seed%2 == 0,
					Loss: loss, Duplicate: 0.02, Corrupt: 0.02, Bandwidth: 20e6, QueueBytes: 64 << 10}
				runPairTransfer(t, prof, seed, 128<<10, Config{DisableSACK: seed%3 == 0})
			})
		}
	}
}

// TestPairSlowReader has the receiving application read 4 KiB per fake
// millisecond through a 64 KiB buffer, with loss: the window closes and
// reopens (persist probes, window updates) many times.
func TestPairSlowReader(t *testing.T) {
	for _, noSACK := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			prof := netem.Profile{Delay: 2 * time.Millisecond, Loss: 0.02}
			p, err := NewPair(prof, prof, 9, Config{RecvBuffer: 64 << 10, SendBuffer: 256 << 10, MSS: 1000, DisableSACK: noSACK, checkScoreboard: true})
			require.NoError(t, err)
			defer p.Close()
			l, err := p.B.Listen(5001)
			require.NoError(t, err)
			defer l.Close()
			data := testData(3, 1<<20)
			go func() {
				c, err := p.A.Dial(netip.AddrPortFrom(PairAddrB, 5001))
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				if _, err := c.Write(data); err != nil {
					t.Error(err)
				}
			}()
			c, err := l.AcceptTCP()
			require.NoError(t, err)
			defer c.Close()
			var got []byte
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				time.Sleep(time.Millisecond)
			}
			require.Equal(t, sha256.Sum256(data), sha256.Sum256(got), "got %d of %d bytes", len(got), len(data))
		})
	}
}
