package netem

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPreciseTimerPipeDelivers runs a pipe in real time on the
// high-resolution timer, switched on and off mid-stream: every packet
// arrives once, in order, never before its delay. (How late it arrives is
// measured by hrtimer.BenchmarkLateness and the bench, not asserted here.)
func TestPreciseTimerPipeDelivers(t *testing.T) {
	const n, delay = 120, 3 * time.Millisecond
	var mu sync.Mutex
	var got []uint64
	sent := make([]time.Time, n)
	var early []uint64
	all := make(chan struct{})
	p, err := NewPipe(Profile{Delay: delay}, 1, func(pkt []byte) {
		seq := binary.BigEndian.Uint64(pkt)
		mu.Lock()
		defer mu.Unlock()
		if time.Since(sent[seq]) < delay {
			early = append(early, seq)
		}
		got = append(got, seq)
		if len(got) == n {
			close(all)
		}
	})
	require.NoError(t, err)
	defer p.Close()
	p.SetPreciseTimer(true)
	buf := make([]byte, 8)
	for i := range n {
		switch i {
		case n / 3:
			p.SetPreciseTimer(false)
		case 2 * n / 3:
			p.SetPreciseTimer(true)
		}
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		binary.BigEndian.PutUint64(buf, uint64(i))
		p.Send(buf)
		time.Sleep(time.Duration(i%3) * 500 * time.Microsecond)
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("not every packet arrived within 10 s")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, early, "delivered before the link delay")
	for i, seq := range got {
		require.Equal(t, uint64(i), seq, "arrival %d", i)
	}
}

// TestNetworkPreciseTimersReachEveryLink checks that the network's switch
// reaches links made before and after it.
func TestNetworkPreciseTimersReachEveryLink(t *testing.T) {
	nw := NewNetwork(1)
	defer nw.Close()
	before, err := nw.Link("10.0.0.1", "10.0.0.2", Profile{Delay: time.Millisecond}, Profile{Delay: time.Millisecond})
	require.NoError(t, err)
	nw.SetPreciseTimers(true)
	after, err := nw.Link("10.0.0.1", "10.0.0.3", Profile{Delay: time.Millisecond}, Profile{Delay: time.Millisecond})
	require.NoError(t, err)
	for _, p := range []*Pipe{before.AToB(), before.BToA(), after.AToB(), after.BToA()} {
		p.mu.Lock()
		require.True(t, p.precise)
		p.mu.Unlock()
	}
	// Traffic crosses a precise link.
	a, err := nw.ListenPacket("10.0.0.1:1")
	require.NoError(t, err)
	c, err := nw.ListenPacket("10.0.0.3:1")
	require.NoError(t, err)
	_, err = a.WriteTo([]byte("hello"), c.LocalAddr())
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	b := make([]byte, 16)
	m, _, err := c.ReadFrom(b)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b[:m]))
}
