package tcp

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

func TestPairTransfer8MiBFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prof := netem.Profile{Delay: 20 * time.Millisecond, Loss: 0.01, Bandwidth: 50e6, QueueBytes: 256 << 10}
		p, err := NewPair(prof, prof, 3, Config{})
		require.NoError(t, err)
		defer p.Close()
		res, err := p.Transfer(context.Background(), 6000, 8<<20)
		require.NoError(t, err)
		require.EqualValues(t, 8<<20, res.Bytes)
		t.Logf("8 MiB at 50 Mbit/s, 40 ms RTT, 1%% loss: %v, %.1f Mbit/s; sender %+v", res.Elapsed, res.Goodput()/1e6, res.Sender)
		// A second transfer on the same pair works too.
		res, err = p.Transfer(context.Background(), 6001, 1<<20)
		require.NoError(t, err)
		require.EqualValues(t, 1<<20, res.Bytes)
	})
}

func TestPairTransferContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prof := netem.Profile{Delay: 10 * time.Millisecond, Down: true}
		p, err := NewPair(prof, prof, 3, Config{})
		require.NoError(t, err)
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = p.Transfer(ctx, 6000, 1<<20)
		require.Error(t, err)
	})
}

// BenchmarkPairThroughput moves 4 MiB per op from A to B over an
// unimpaired netem link in real time.
func BenchmarkPairThroughput(b *testing.B) {
	p, err := NewPair(netem.Profile{}, netem.Profile{}, 1, Config{})
	require.NoError(b, err)
	defer p.Close()
	const size = 4 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	port := uint16(7000)
	for b.Loop() {
		port++
		if _, err := p.Transfer(context.Background(), port, size); err != nil {
			b.Fatal(err)
		}
	}
}
