package rtp

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	pionrtcp "github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
	"github.com/skiffnet/skiff/rtcp"
)

func TestSessionCountsMalformedAndTalksToPion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := netem.NewNetwork(1)
		defer nw.Close()
		ca, err := nw.ListenPacket("10.0.0.1:5004")
		require.NoError(t, err)
		peer, err := nw.ListenPacket("10.0.0.2:5004")
		require.NoError(t, err)
		defer peer.Close()
		s, err := NewSession(SessionConfig{Conn: ca, Peer: peer.LocalAddr(), Sender: SenderConfig{SSRC: 0x10}})
		require.NoError(t, err)

		send := func(b []byte) {
			_, err := peer.WriteTo(b, ca.LocalAddr())
			require.NoError(t, err)
		}
		// Malformed RTP: version 1; truncated CSRC list.
		send([]byte{0x40, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
		send([]byte{0x8F, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
		// Malformed RTCP: length past the end.
		send([]byte{0x80, 201, 0, 9, 0, 0, 0, 1})
		// pion-built media packet with our descriptor, and a pion-built PLI.
		d := Descriptor{Count: 1, Kind: KindI, Priority: PriorityI}
		p := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 0x99}, Payload: []byte("key")}
		require.NoError(t, p.SetExtension(1, d.AppendTo(nil)))
		b, err := p.Marshal()
		require.NoError(t, err)
		send(b)
		pli, err := pionrtcp.Marshal([]pionrtcp.Packet{&pionrtcp.PictureLossIndication{SenderSSRC: 0x99, MediaSSRC: 0x10}})
		require.NoError(t, err)
		send(pli)

		select {
		case f := <-s.Frames():
			require.Equal(t, []byte("key"), f.Payload)
		case <-time.After(time.Second):
			t.Fatal("no frame")
		}
		select {
		case <-s.KeyFrameRequests():
		case <-time.After(time.Second):
			t.Fatal("no key-frame request")
		}
		// A datagram from a stranger is dropped.
		stranger, err := nw.ListenPacket("10.0.0.3:5004")
		require.NoError(t, err)
		defer stranger.Close()
		_, err = stranger.WriteTo(pli, ca.LocalAddr())
		require.NoError(t, err)
		synctest.Wait()
		st := s.Stats()
		require.EqualValues(t, 1, st.ForeignDatagrams)
		require.EqualValues(t, 2, st.MalformedRTP)
		require.EqualValues(t, 1, st.MalformedRTCP)
		require.EqualValues(t, 1, st.Sender.KeyFrameRequests)

		// Our session's reports parse with pion and carry a block about 0x99.
		_, err = s.Send(Frame{Kind: KindI, Payload: make([]byte, 100)})
		require.NoError(t, err)
		buf := make([]byte, 1500)
		deadline := time.Now().Add(3 * time.Second)
		var sawSR bool
		for time.Now().Before(deadline) && !sawSR {
			require.NoError(t, peer.SetReadDeadline(deadline))
			n, _, err := peer.ReadFrom(buf)
			if err != nil {
				break
			}
			if !rtcp.IsRTCP(buf[:n]) {
				var rp pionrtp.Packet
				require.NoError(t, rp.Unmarshal(buf[:n]), "our RTP parses with pion")
				continue
			}
			pkts, err := pionrtcp.Unmarshal(buf[:n])
			require.NoError(t, err, "our RTCP parses with pion")
			if sr, ok := pkts[0].(*pionrtcp.SenderReport); ok {
				sawSR = true
				require.EqualValues(t, 0x10, sr.SSRC)
				require.Len(t, sr.Reports, 1)
				require.EqualValues(t, 0x99, sr.Reports[0].SSRC)
			}
		}
		require.True(t, sawSR)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "idempotent")
		_, err = s.Send(Frame{Kind: KindI, Payload: []byte{1}})
		require.ErrorIs(t, err, ErrClosed)
	})
}

func TestNewSessionValidates(t *testing.T) {
	_, err := NewSession(SessionConfig{})
	require.ErrorIs(t, err, ErrConfig)
	nw := netem.NewNetwork(1)
	defer nw.Close()
	c, err := nw.ListenPacket("10.0.0.1:1")
	require.NoError(t, err)
	defer c.Close()
	_, err = NewSession(SessionConfig{Conn: c, Peer: c.LocalAddr(), Sender: SenderConfig{PayloadType: 72}})
	require.ErrorIs(t, err, ErrConfig, "PT 72 collides with RTCP under RFC 5761")
}

func TestBudgets(t *testing.T) {
	l := NewLossBasedRate(1000_000, 100_000, 2000_000)
	l.OnReceiverReport(t0, 0, 0)
	l.OnReceiverReport(t0.Add(time.Second), 0.01, 0)
	require.InDelta(t, 1050_000, float64(l.Rate(t0)), 1, "grows 5%/s under 2% loss")
	l.OnReceiverReport(t0.Add(2*time.Second), 0.05, 0)
	require.InDelta(t, 1050_000, float64(l.Rate(t0)), 1, "holds between 2% and 10%")
	l.OnReceiverReport(t0.Add(3*time.Second), 0.2, 0)
	require.InDelta(t, 945_000, float64(l.Rate(t0)), 1, "drops by half the loss above 10%")
	l.DelayThreshold = 20 * time.Millisecond
	l.OnReceiverReport(t0.Add(4*time.Second), 0, 40*time.Millisecond)
	l.OnReceiverReport(t0.Add(5*time.Second), 0, 70*time.Millisecond)
	require.InDelta(t, 945_000*1.05*0.85, float64(l.Rate(t0)), 1, "backs off on RTT inflation")
	l.OnReceiverReport(t0.Add(6*time.Second), 0, 50*time.Millisecond)
	require.InDelta(t, 945_000*1.05*0.85, float64(l.Rate(t0)), 1, "holds on a queue under the threshold (10 ms > 20/4)")
	l.OnReceiverReport(t0.Add(7*time.Second), 0, 44*time.Millisecond)
	require.InDelta(t, 945_000*1.05*0.85*1.05, float64(l.Rate(t0)), 1, "grows again once reports see (nearly) no queue")

	c := ControllerBudget{Controller: congestion.NewFixed(12_500), RTT: fixedRTT(100 * time.Millisecond)}
	require.EqualValues(t, 1_000_000, c.Rate(t0), "window per RTT")
	require.EqualValues(t, 5*congestion.MbitPerSecond, FixedRate(5*congestion.MbitPerSecond).Rate(t0))
}

type fixedRTT time.Duration

func (f fixedRTT) SmoothedRTT() time.Duration { return time.Duration(f) }
func (f fixedRTT) MinRTT() time.Duration      { return time.Duration(f) }
func (f fixedRTT) LatestRTT() time.Duration   { return time.Duration(f) }

// Over real UDP sockets on loopback, in real time.
func TestSessionOverUDPLoopback(t *testing.T) {
	ca, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	cb, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	a, err := NewSession(SessionConfig{Conn: ca, Peer: cb.LocalAddr(), Sender: SenderConfig{SSRC: 1}})
	require.NoError(t, err)
	b, err := NewSession(SessionConfig{Conn: cb, Peer: ca.LocalAddr(), Sender: SenderConfig{SSRC: 2},
		Receiver: ReceiverConfig{PlayoutDelay: 200 * time.Millisecond}})
	require.NoError(t, err)
	defer func() {
		require.NoError(t, a.Close())
		require.NoError(t, b.Close())
	}()
	for i := range 5 {
		kind := KindP
		if i == 0 {
			kind = KindI
		}
		_, err := a.Send(Frame{Kind: kind, Timestamp: time.Duration(i) * 10 * time.Millisecond, Payload: make([]byte, 3000+i)})
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 5 {
		select {
		case f := <-b.Frames():
			require.Len(t, f.Payload, 3000+i)
		case <-time.After(2 * time.Second):
			t.Fatalf("frame %d not delivered", i)
		}
	}
}
