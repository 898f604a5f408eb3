package netem

import (
	"encoding/binary"
	"hash/fnv"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// transferResult is everything a transfer run can observe.
type transferResult struct {
	Elapsed     time.Duration
	Retransmits int
	DataLink    Stats
	AckLink     Stats
	ArrivalHash uint64 // order in which the receiver saw data packets
}

// runTransfer moves n 1000-byte packets from 10.0.0.1 to 10.0.0.2 over a
// 100 ms RTT link with 5% loss each way, with a toy selective-repeat sender
// (window 50, RTO 250 ms, 5 ms ticks), all in fake time.
func runTransfer(t *testing.T, seed int64, n int) transferResult {
	var res transferResult
	synctest.Test(t, func(t *testing.T) {
		nw := NewNetwork(seed)
		defer nw.Close()
		prof := Profile{Delay: 50 * time.Millisecond, Loss: 0.05}
		link, err := nw.Link("10.0.0.1", "10.0.0.2", prof, prof)
		require.NoError(t, err)
		snd, err := nw.ListenPacket("10.0.0.1:4000")
		require.NoError(t, err)
		rcv, err := nw.ListenPacket("10.0.0.2:5000")
		require.NoError(t, err)

		// Receiver: ack every data packet, remember the arrival order.
		h := fnv.New64a()
		go func() {
			buf := make([]byte, 2000)
			for {
				k, from, err := rcv.ReadFrom(buf)
				if err != nil {
					return
				}
				h.Write(buf[:8])
				rcv.WriteTo(buf[:8], from)
				_ = k
			}
		}()
		// The sender's ack reader feeds a channel the ticking sender drains.
		acks := make(chan uint64, 4*n)
		go func() {
			buf := make([]byte, 64)
			for {
				k, _, err := snd.ReadFrom(buf)
				if err != nil {
					return
				}
				if k == 8 {
					acks <- binary.BigEndian.Uint64(buf)
				}
			}
		}()

		const window, rto = 50, 250 * time.Millisecond
		start := time.Now()
		sentAt := make(map[uint64]time.Time)
		acked := make(map[uint64]bool)
		next := uint64(0)
		pkt := make([]byte, 1000)
		dst := rcv.LocalAddr().(*net.UDPAddr)
		send := func(seq uint64) {
			binary.BigEndian.PutUint64(pkt, seq)
			_, err := snd.WriteTo(pkt, dst)
			require.NoError(t, err)
			sentAt[seq] = time.Now()
		}
		for len(acked) < n {
			for drained := false; !drained; {
				select {
				case s := <-acks:
					if !acked[s] {
						acked[s] = true
						delete(sentAt, s)
					}
				default:
					drained = true
				}
			}
			now := time.Now()
			for seq := uint64(0); seq < next; seq++ { // deterministic order
				if at, ok := sentAt[seq]; ok && now.Sub(at) >= rto {
					send(seq)
					res.Retransmits++
				}
			}
			for len(sentAt) < window && next < uint64(n) {
				send(next)
				next++
			}
			time.Sleep(5 * time.Millisecond)
			synctest.Wait() // everything due at this instant has happened
		}
		res.Elapsed = time.Since(start)
		res.DataLink = link.AToB().Stats()
		res.AckLink = link.BToA().Stats()
		snd.Close()
		rcv.Close()
		synctest.Wait()
		res.ArrivalHash = h.Sum64()
	})
	return res
}

func TestTransferOverLossyLinkIsDeterministicInFakeTime(t *testing.T) {
	const n = 3000
	wall := time.Now()
	a := runTransfer(t, 2026, n)
	b := runTransfer(t, 2026, n)
	t.Logf("fake time %v, %d retransmits, data link %+v, wall %v", a.Elapsed, a.Retransmits, a.DataLink, time.Since(wall))
	require.Equal(t, a, b, "same seed, same input: identical run")
	require.InDelta(t, 0.05, float64(a.DataLink.DroppedLoss)/float64(a.DataLink.OfferedPackets), 0.015)
	require.Greater(t, a.Retransmits, n/40)
	// 3000 packets in windows of 50 per 100 ms RTT is at least 6 s.
	require.Greater(t, a.Elapsed, 6*time.Second)

	c := runTransfer(t, 7, n)
	require.NotEqual(t, a.ArrivalHash, c.ArrivalHash, "another seed loses other packets")
}
