package skiff

import (
	"context"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/netem"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// writeClock records the time and packet type of every datagram written.
type writeClock struct {
	net.PacketConn
	mu     sync.Mutex
	writes []clockedWrite
}

type clockedWrite struct {
	at  time.Time
	typ rudp.PacketType
}

func (w *writeClock) WriteTo(b []byte, addr net.Addr) (int, error) {
	if len(b) > 1 {
		w.mu.Lock()
		w.writes = append(w.writes, clockedWrite{time.Now(), rudp.PacketType(b[1])})
		w.mu.Unlock()
	}
	return w.PacketConn.WriteTo(b, addr)
}

// repairsInBurst counts the repair packets and those written at the
// same instant (fake time) as the write before them, back to back.
func (w *writeClock) repairsInBurst() (repairs, inBurst int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, x := range w.writes {
		if x.typ != rudp.TypeRepair {
			continue
		}
		repairs++
		if i > 0 && w.writes[i-1].at.Equal(x.at) {
			inBurst++
		}
	}
	return repairs, inBurst
}

// repairInstants counts the repair packets and the distinct instants at
// which they were written.
func (w *writeClock) repairInstants() (repairs, instants int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last time.Time
	for _, x := range w.writes {
		if x.typ != rudp.TypeRepair {
			continue
		}
		repairs++
		if instants == 0 || !x.at.Equal(last) {
			instants++
		}
		last = x.at
	}
	return repairs, instants
}

// TestFECRepairsPacedInBulk: a bulk transfer's repair packets go through
// pacing like its data (queued by SendRepair, sent by flush), instead of
// back to back with the last data packet of their group; a sparse
// message's repairs, with nothing else waiting, still leave with it.
func TestFECRepairsPacedInBulk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := netem.NewNetwork(7)
		defer nw.Close()
		link := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 50e6, QueueBytes: 62_500}
		_, err := nw.Link(clientHost, serverHost, link, link)
		require.NoError(t, err)
		spc, err := nw.ListenPacket(serverHost + ":5000")
		require.NoError(t, err)
		defer spc.Close()
		cpc, err := nw.ListenPacket(clientHost + ":0")
		require.NoError(t, err)
		defer cpc.Close()
		// RS(10, 3): three repairs per group, a burst when sent at once.
		fc := fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeReedSolomon, K: 10, M: 3}}
		cfg := &Config{Recovery: RecoveryFEC, FEC: fc, CongestionSeed: 7}
		l, err := Listen(spc, cfg)
		require.NoError(t, err)
		defer l.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		acc := make(chan *Session, 1)
		go func() {
			s, _ := l.AcceptSession(ctx)
			acc <- s
		}()
		wc := &writeClock{PacketConn: cpc}
		c, err := Dial(ctx, wc, spc.LocalAddr(), cfg)
		require.NoError(t, err)
		s := <-acc
		require.NotNil(t, s)

		// Sparse messages first: each message's repairs leave with it.
		for i := range 20 {
			require.NoError(t, c.SendMessage(randomData(200, int64(i)), ReliableOrdered))
			_, err := s.ReceiveMessage(ctx)
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond)
		}
		repairs, instants := wc.repairInstants()
		t.Logf("messages: %d repair packets at %d instants", repairs, instants)
		require.GreaterOrEqual(t, repairs, 20)
		require.Equal(t, 20, instants, "each message's repairs leave together, unpaced")

		wc.mu.Lock()
		wc.writes = wc.writes[:0]
		wc.mu.Unlock()
		data := randomData(2<<20, 9)
		got := sendAll(t, c, s, data)
		requireSameData(t, data, got)
		repairs, inBurst := wc.repairsInBurst()
		t.Logf("bulk: %d repair packets, %d written back to back with the packet before", repairs, inBurst)
		require.Greater(t, repairs, 100)
		require.Less(t, inBurst, repairs/4, "bulk repairs are paced, not sent in bursts")
		require.NoError(t, s.Close())
		waitDone(t, c, s)
	})
}
