//go:build linux

package tcp

import (
	"context"
	"crypto/sha256"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// lossyLink impairs both directions of a Link with netem pipes, so the
// kernel on the far side of a TUN sees our TCP across a lossy path (and we
// see its SACK-based recovery).
type lossyLink struct {
	inner   Link
	out, in *netem.Pipe
	rx      chan []byte
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func newLossyLink(t *testing.T, inner Link, prof netem.Profile, seed int64) *lossyLink {
	l := &lossyLink{inner: inner, rx: make(chan []byte, 1024), done: make(chan struct{})}
	var err error
	l.out, err = netem.NewPipe(prof, seed, func(p []byte) { _ = inner.WritePacket(p) })
	require.NoError(t, err)
	l.in, err = netem.NewPipe(prof, seed+1, func(p []byte) {
		select {
		case l.rx <- append([]byte(nil), p...):
		default:
		}
	})
	require.NoError(t, err)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		buf := make([]byte, inner.MTU())
		for {
			n, err := inner.ReadPacket(buf)
			if err != nil {
				return
			}
			l.in.Send(buf[:n])
		}
	}()
	return l
}

func (l *lossyLink) WritePacket(p []byte) error { l.out.Send(p); return nil }
func (l *lossyLink) MTU() int                   { return l.inner.MTU() }

func (l *lossyLink) ReadPacket(buf []byte) (int, error) {
	select {
	case p := <-l.rx:
		return copy(buf, p), nil
	case <-l.done:
		return 0, ErrLinkClosed
	}
}

func (l *lossyLink) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.inner.Close()
		l.wg.Wait()
		l.out.Close()
		l.in.Close()
	})
	return nil
}

// TestKernelOverLossyLink moves 1 MiB each way between our TCP and the
// kernel's across 3% loss each way (5 ms delay), both with SACK (the kernel
// recovers from our SACK blocks, we from its) and without.
func TestKernelOverLossyLink(t *testing.T) {
	for _, noSACK := range []bool{false, true} {
		name := "sack"
		if noSACK {
			name = "newreno"
		}
		t.Run(name, func(t *testing.T) {
			h := newTUNHost(t)
			dev, err := NewDeviceLink(h.TUN, h.MTU)
			require.NoError(t, err)
			link := newLossyLink(t, dev, netem.Profile{Delay: 5 * time.Millisecond, Loss: 0.03}, 5)
			s, err := NewStack(link, h.Peer, Config{MSL: 200 * time.Millisecond, Seed: 2, DisableSACK: noSACK})
			require.NoError(t, err)
			defer s.Close()

			ln, err := h.NS.Listen("tcp4", netip.AddrPortFrom(h.Kernel.Addr(), 5004).String())
			require.NoError(t, err)
			defer ln.Close()
			const size = 1 << 20
			toKernel, fromKernel := testData(5, size), testData(6, size)
			var wg sync.WaitGroup
			var gotByKernel []byte
			wg.Add(1)
			go func() {
				defer wg.Done()
				kc, err := ln.Accept()
				if err != nil {
					t.Error(err)
					return
				}
				defer kc.Close()
				gotByKernel = exchange(t, kc.(*net.TCPConn), fromKernel)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := s.DialContext(ctx, netip.AddrPortFrom(h.Kernel.Addr(), 5004))
			require.NoError(t, err)
			start := time.Now()
			got := exchange(t, c, toKernel)
			wg.Wait()
			require.Equal(t, sha256.Sum256(toKernel), sha256.Sum256(gotByKernel))
			require.Equal(t, sha256.Sum256(fromKernel), sha256.Sum256(got))
			require.NoError(t, c.Close())
			select {
			case <-c.Done():
			case <-time.After(20 * time.Second):
				t.Fatalf("stuck in %v", c.State())
			}
			require.NoError(t, c.Err())
			kc := kernelCounters(t, h)
			require.Zero(t, kc["Tcp.InCsumErrors"])
			t.Logf("%s: 1 MiB each way in %v; ours %+v; kernel SACK recoveries %d, Reno recoveries %d, retransmitted segs %d; our packets dropped %d",
				name, time.Since(start), c.Stats(), kc["TcpExt.TCPSackRecovery"], kc["TcpExt.TCPRenoRecovery"], kc["Tcp.RetransSegs"], link.out.Stats().DroppedLoss)
			if noSACK {
				require.Zero(t, kc["TcpExt.TCPSackRecovery"])
			} else {
				require.Positive(t, kc["TcpExt.TCPSackRecovery"], "the kernel never recovered with our SACK blocks")
			}
		})
	}
}
