package skiff

import (
	"bytes"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// wireRecorder keeps every data frame offered to a pipe, by reliable
// sequence number, to check that each transmission carries the same bytes.
type wireRecorder struct {
	mu     sync.Mutex
	frames map[uint32][][]byte
	bad    int
}

func recordData(p *netem.Pipe) *wireRecorder {
	r := &wireRecorder{frames: map[uint32][][]byte{}}
	p.DropNth(1<<62, func(pkt []byte) bool {
		var q rudp.Packet
		if _, err := q.Unmarshal(pkt); err != nil || q.Header.Type != rudp.TypeData || !q.Data.Kind.Reliable() {
			return false
		}
		r.mu.Lock()
		r.frames[q.Data.Seq] = append(r.frames[q.Data.Seq], append([]byte(nil), q.Data.Payload...))
		r.mu.Unlock()
		return false
	})
	return r
}

// check fails unless every retransmission equals the first transmission;
// it returns the number of retransmissions seen on the wire.
func (r *wireRecorder) check(t testing.TB) (retransmissions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for seq, txs := range r.frames {
		for i := 1; i < len(txs); i++ {
			require.True(t, bytes.Equal(txs[0], txs[i]), "seq %d transmission %d differs from the original", seq, i+1)
			retransmissions++
		}
	}
	return retransmissions
}

func TestNACKScriptedDropRetransmitsExactPayload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond}
		cfg := &Config{Recovery: RecoveryNACK}
		e := newNetemEnv(t, 21, p, p, cfg, cfg)
		isData := func(pkt []byte) bool { _, typ, _ := rudp.PeekConnID(pkt); return typ == rudp.TypeData }
		e.link.AToB().DropNth(3, isData)  // the 3rd data packet
		e.link.AToB().DropNth(40, isData) // and a later one
		rec := recordData(e.link.AToB())
		data := randomData(200<<10, 1)
		got := sendAll(t, e.c, e.s, data)
		requireSameData(t, data, got)
		require.Equal(t, 2, rec.check(t), "exactly the two dropped packets are retransmitted")
		st := e.c.Stats()
		require.Equal(t, uint64(2), st.PacketsRetransmitted)
		require.Zero(t, st.RetransmissionTimeouts)
		e.close(t)
	})
}

func TestNACKRetransmittedPayloadUnderHeavyLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond, Loss: 0.2, Jitter: 2 * time.Millisecond, AllowReorder: true}
		cfg := &Config{Recovery: RecoveryNACK}
		e := newNetemEnv(t, 22, p, p, cfg, cfg)
		rec := recordData(e.link.AToB())
		data := randomData(2<<20, 2)
		got := sendAll(t, e.c, e.s, data)
		requireSameData(t, data, got)
		n := rec.check(t)
		require.Greater(t, n, 100)
		t.Logf("%d retransmissions, all byte-identical to their originals", n)
		e.close(t)
	})
}

func TestNACKEscalatesToTimerAfterRetryLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 10 * time.Millisecond}
		cfg := &Config{Recovery: RecoveryNACK, NackRetries: 1}
		e := newNetemEnv(t, 23, p, p, cfg, cfg)
		// Drop every transmission of reliable sequence 5 four times.
		for k := 1; k <= 4; k++ {
			e.link.AToB().DropNth(k, func(pkt []byte) bool {
				var q rudp.Packet
				_, err := q.Unmarshal(pkt)
				return err == nil && q.Header.Type == rudp.TypeData && q.Data.Seq == 5
			})
		}
		data := randomData(100<<10, 3)
		got := sendAll(t, e.c, e.s, data)
		requireSameData(t, data, got)
		st := e.c.Stats()
		// The sender's timers (the tail timer, then the RTO) took over
		// from the receiver, which gave up after one NACK.
		require.GreaterOrEqual(t, st.PacketsRetransmitted, uint64(4), "the sender's timers took over")
		e.close(t)
	})
}

// TestNACKSignature: at 5% random loss with reordering, NACK retransmits
// about as many packets as the emulator dropped (within 10%), while timed
// RTO on the same seed retransmits spuriously on reordering.
func TestNACKSignature(t *testing.T) {
	p := netem.Profile{Delay: 10 * time.Millisecond, Jitter: 2 * time.Millisecond, AllowReorder: true,
		Loss: 0.05, Bandwidth: 20e6, QueueBytes: 512 << 10}
	run := func(r Recovery) (retx, drops uint64) {
		synctest.Test(t, func(t *testing.T) {
			cfg := &Config{Recovery: r}
			e := newNetemEnv(t, 31, p, p, cfg, cfg)
			before := e.link.AToB().Stats()
			data := randomData(4<<20, 4)
			got := sendAll(t, e.c, e.s, data)
			requireSameData(t, data, got)
			after := e.link.AToB().Stats()
			retx, drops = e.c.Stats().PacketsRetransmitted, after.DroppedLoss-before.DroppedLoss
			if n, ok := e.c.c.strat.(*rudp.NACK); ok {
				a, b, c := n.NackStats()
				t.Logf("nacks recv %d answered %d ignored %d; receiver dups %d; rto %d probes %d; srtt %v rttvar %v (receiver %v %v)", a, b, c,
					e.s.Stats().DuplicatesReceived, e.c.Stats().RetransmissionTimeouts, e.c.Stats().ProbesSent,
					e.c.Stats().SRTT, e.c.Stats().RTTVar, e.s.Stats().SRTT, e.s.Stats().RTTVar)
			}
			e.close(t)
		})
		return retx, drops
	}
	nackRetx, nackDrops := run(RecoveryNACK)
	rtoRetx, rtoDrops := run(RecoveryRTO)
	t.Logf("NACK: %d retransmissions for %d emulator drops (%.1f%%); RTO: %d for %d (%.1f%%)",
		nackRetx, nackDrops, 100*float64(nackRetx)/float64(nackDrops),
		rtoRetx, rtoDrops, 100*float64(rtoRetx)/float64(rtoDrops))
	require.InDelta(t, float64(nackDrops), float64(nackRetx), 0.1*float64(nackDrops))
}
