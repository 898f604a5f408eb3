package skiff

import (
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rudp"
	"github.com/stretchr/testify/require"
)

// ackRecorder is a congestion controller that records the prior flight
// of every acknowledgement it is told about.
type ackRecorder struct {
	congestion.Controller
	acked map[uint64]int
}

func (r *ackRecorder) OnPacketAcked(now time.Time, pn uint64, bytes, prior int) {
	r.acked[pn] = prior
	r.Controller.OnPacketAcked(now, pn, bytes, prior)
}

// TestAckOfPresumedLostPacketReachesCongestionControl: the NACK strategy
// takes a packet not acknowledged 9/8 RTT after a later one out of the
// flight without a loss signal (the receiver decides). When it was only
// delayed (jitter, reordering) and its acknowledgement comes, congestion
// control must still count the delivery: BBR's delivery-rate samples
// otherwise miss every late packet, and on a real-time P4 link (±5 ms
// jitter plus scheduling noise) STARTUP stalled at 10–19 Mbit/s and the
// bench's NACK transfers ran at 11–35 instead of 40–44 Mbit/s. A packet
// declared lost (the controller saw the loss) is not reported again.
func TestAckOfPresumedLostPacketReachesCongestionControl(t *testing.T) {
	c := &conn{now: time.Unix(100, 0)}
	cc, err := congestion.New("reno", congestion.Config{})
	require.NoError(t, err)
	rec := &ackRecorder{Controller: cc, acked: map[uint64]int{}}
	c.cc = rec
	c.strat = rudp.NewNACK(c, 0, 0)
	const size = 1000
	for pn := uint64(0); pn < 4; pn++ {
		f := c.sb.Push(rudp.KindStream, rudp.FrameFirst|rudp.FrameLast, 0, []byte{byte(pn)})
		f.LastPN, f.LastSent, f.Transmissions = pn, c.now, 1
		prior := c.hist.BytesInFlight()
		c.hist.Add(rudp.SentPacket{PN: pn, Time: c.now, Size: size, Seq: f.Seq, HasSeq: true, AckEliciting: true, InFlight: true})
		cc.OnPacketSent(c.now, pn, size, prior)
	}
	c.hist.LeaveFlight(c.hist.Get(0))          // presumed lost by the NACK sender
	c.DeclareLost(c.now, c.hist.Get(1), false) // declared lost: the controller knows
	require.Equal(t, 2*size, c.hist.BytesInFlight())

	c.now = c.now.Add(30 * time.Millisecond)
	a := rudp.AckFrame{LargestPN: 3, CumSeq: 4, MaxSeq: 100, NumRanges: 1}
	a.Ranges[0] = rudp.AckRange{Smallest: 0, Largest: 3}
	c.onAck(&a)

	require.Contains(t, rec.acked, uint64(0), "the late packet's delivery is counted")
	require.NotContains(t, rec.acked, uint64(1), "a declared loss is not also an ack")
	require.Contains(t, rec.acked, uint64(2))
	require.Contains(t, rec.acked, uint64(3))
	// The prior flight of the presumed-lost packet's ack includes it, so
	// the controller's flight after the ack is the session's.
	require.Equal(t, 3*size, rec.acked[0])
	require.Zero(t, c.hist.BytesInFlight())
	require.Equal(t, uint64(4), c.sb.Base())
}
