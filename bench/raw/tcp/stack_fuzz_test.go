package tcp

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/bench/raw/ipv4"
)

// discardLink is a Link that drops what it is given (for driving a Stack's
// packet path without its goroutines).
type discardLink struct{ n int }

func (l *discardLink) WritePacket([]byte) error       { l.n++; return nil }
func (l *discardLink) ReadPacket([]byte) (int, error) { return 0, ErrLinkClosed }
func (l *discardLink) MTU() int                       { return 1500 }
func (l *discardLink) Close() error                   { return nil }

// bareStack is a Stack whose loop is not running: the test calls
// handlePacket itself, as the loop would.
func bareStack(t testing.TB) *Stack {
	cfg, err := Config{}.withDefaults(1500)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{
		link: &discardLink{}, addr: netip.MustParseAddr("10.0.0.2"), cfg: cfg,
		conns: map[connKey]*Conn{}, listeners: map[uint16]*Listener{},
		rng: rand.New(rand.NewPCG(1, 2)), nextPort: 50000, out: make([]byte, 0, 1500),
		done: make(chan struct{}),
	}
	s.listeners[80] = newListener(s, 80)
	return s
}

// FuzzStackPacket feeds whole IPv4 packets to a Stack with a listener:
// decoding (IPv4, TCP checksum, TCP header) and dispatch must never panic.
func FuzzStackPacket(f *testing.F) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	mk := func(h Header, payload string) []byte {
		ih := ipv4.Header{TotalLength: uint16(20 + h.MarshalSize() + len(payload)), TTL: 64, Protocol: ipv4.ProtocolTCP, Src: src, Dst: dst}
		pkt := append(h.AppendTo(ih.AppendTo(nil)), payload...)
		SetChecksum(pkt[20:], src, dst)
		return pkt
	}
	f.Add(mk(Header{SrcPort: 5555, DstPort: 80, Seq: 1, Flags: FlagSYN, Window: 1000, Options: Options{MSS: 1460, SACKPermitted: true}}, ""), true)
	f.Add(mk(Header{SrcPort: 5555, DstPort: 80, Seq: 2, Ack: 7, Flags: FlagACK, Window: 1000}, "data"), true)
	f.Add(mk(Header{SrcPort: 5555, DstPort: 81, Seq: 2, Flags: FlagFIN}, ""), false)
	f.Add(mk(Header{SrcPort: 5555, DstPort: 80, Flags: FlagRST}, ""), true)
	f.Add([]byte{0x45, 0, 0, 20}, false)
	f.Fuzz(func(t *testing.T, pkt []byte, fixChecksum bool) {
		// Most mutations break the checksum; fixing it lets the fuzzer
		// reach the TCP header decoder and the state machine.
		var ih ipv4.Header
		if _, err := ih.Unmarshal(pkt); fixChecksum && err == nil {
			if seg, err := ih.Payload(pkt); err == nil && len(seg) >= HeaderLen {
				SetChecksum(seg, ih.Src, ih.Dst)
			}
		}
		s := bareStack(t)
		now := time.Unix(1, 0)
		s.handlePacket(now, pkt)
		// A SYN answered by the fuzzer's next packet reaches the TCB paths.
		s.handlePacket(now, pkt)
		for _, c := range s.conns {
			c.t.onTimer(now.Add(time.Hour))
		}
	})
}
