package tcp

import (
	"testing"
	"time"
)

// FuzzTCBSegment feeds arbitrary segments to an established connection, a
// listener and a connection in SYN-SENT: the state machine must never
// panic, and its invariants must hold afterwards.
func FuzzTCBSegment(f *testing.F) {
	seed := func(h Header, payload string) {
		f.Add(h.AppendTo(nil), []byte(payload), uint8(0))
	}
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 5001, Ack: 101, Flags: FlagACK, Window: 100}, "hello")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 5001, Ack: 101, Flags: FlagACK | FlagFIN, Window: 100}, "")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 5001, Flags: FlagRST}, "")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 6001, Ack: 101, Flags: FlagACK, Window: 0}, "later")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 1, Flags: FlagSYN, Options: Options{MSS: 1, HasWindowScale: true, WindowScale: 14}}, "")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 1, Ack: 101, Flags: FlagSYN | FlagACK, Options: Options{MSS: 9000}}, "x")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 5001, Ack: 101, Flags: FlagACK, Window: 100,
		Options: Options{NumSACK: 2, SACK: [4]SACKBlock{{1101, 2101}, {3101, 3101}}}}, "")
	seed(Header{SrcPort: 2000, DstPort: 1000, Seq: 5001, Ack: 1101, Flags: FlagACK, Window: 100,
		Options: Options{NumSACK: 1, SACK: [4]SACKBlock{{1500, 3101}}}}, "")
	f.Fuzz(func(t *testing.T, hdr, payload []byte, which uint8) {
		var h Header
		if _, err := h.Unmarshal(hdr); err != nil {
			return
		}
		cfg := testConfig()
		var e *endpoint
		switch which % 3 {
		case 0:
			a, b := handshake(t, cfg)
			sendData(a, t0, 3000)
			deliverAll(t0, a, b)
			e = a
		case 1:
			e = newEndpoint(cfg, 1000, 2000, 100)
			e.t.listen()
		default:
			e = newEndpoint(cfg, 1000, 2000, 100)
			e.t.open(t0)
		}
		now := t0.Add(time.Millisecond)
		for range 3 { // the same segment three times: duplicates, dup ACKs
			e.t.handleSegment(now, &h, payload)
			e.t.output(now)
			if d := e.t.nextDeadline(); !d.IsZero() {
				now = d
				e.t.onTimer(now)
			}
		}
		if e.t.state.synchronized() && e.t.state != StateClosed {
			if seqGT(e.t.sndUna, e.t.sndMax) || seqGT(e.t.sndNxt, e.t.sndMax) {
				t.Fatalf("send sequence out of order: una %d nxt %d max %d", e.t.sndUna, e.t.sndNxt, e.t.sndMax)
			}
			if err := e.t.checkScoreboard(); err != nil {
				t.Fatal(err)
			}
			if e.t.rb.Len() > cfg.RecvBuffer+1<<e.t.rcvShift {
				t.Fatalf("receive buffer over its bound: %d", e.t.rb.Len())
			}
		}
	})
}
