package rtp

import (
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/skiffnet/skiff/congestion"
)

// sendFrame enqueues f and polls every packet the sender emits for it.
func sendFrame(t *testing.T, s *Sender, f Frame) []*pionrtp.Packet {
	_, err := s.Enqueue(t0, f)
	require.NoError(t, err)
	var out []*pionrtp.Packet
	for k := range 1000 {
		b, ok := s.Poll(t0.Add(time.Duration(k)*time.Second), nil)
		if !ok {
			break
		}
		p := &pionrtp.Packet{}
		require.NoError(t, Decode(b, p))
		out = append(out, p)
	}
	return out
}

func TestUnequalFECRecoversWithoutRetransmission(t *testing.T) {
	s, err := NewSender(SenderConfig{SSRC: 5, MTU: 300, Budget: FixedRate(congestion.MbitPerSecond),
		FECPolicy: UnequalFEC(0.5, 0.25)})
	require.NoError(t, err)
	payload := make([]byte, 2000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	pk := sendFrame(t, s, Frame{Kind: KindI, Payload: payload})
	var media, parity []*pionrtp.Packet
	for _, p := range pk {
		switch p.PayloadType {
		case 96:
			media = append(media, p)
		case 98:
			parity = append(parity, p)
			require.EqualValues(t, 7, p.SSRC)
		}
	}
	require.Len(t, media, 8, "2000 bytes at 268 per packet")
	require.Len(t, parity, 4, "I frames: 50%")
	require.Zero(t, s.Stats().TailProbes, "no tail probe when parity follows")
	require.EqualValues(t, 4, s.Stats().FECPackets)

	tests := []struct {
		name      string
		lose      []int // media indices lost
		loseFEC   int   // parity packets lost (from the front)
		recovered bool
	}{
		{"no_loss", nil, 0, true},
		{"four_media_lost", []int{0, 3, 5, 7}, 0, true},
		{"two_media_two_parity_lost", []int{1, 7}, 2, true},
		{"five_media_lost", []int{0, 1, 2, 3, 4}, 0, false},
		{"tail_lost", []int{7}, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(ReceiverConfig{PlayoutDelay: 10 * time.Millisecond})
			lost := map[int]bool{}
			for _, i := range tc.lose {
				lost[i] = true
			}
			for i, p := range media {
				if !lost[i] {
					q := *p
					require.NoError(t, r.OnRTP(t0, &q))
				}
			}
			for _, p := range parity[tc.loseFEC:] {
				q := *p
				require.NoError(t, r.OnRTP(t0, &q))
			}
			got := pollAll(r, t0.Add(time.Second))
			if !tc.recovered {
				require.Empty(t, got)
				require.EqualValues(t, 1, r.Stats().Kinds[KindI].Lost)
				return
			}
			require.Len(t, got, 1)
			require.Equal(t, payload, got[0].Payload)
			require.EqualValues(t, len(tc.lose), r.Stats().FECRecovered)
			if len(tc.lose) > 0 && tc.lose[0] > 0 {
				require.Empty(t, r.NACKs(t0.Add(time.Second), nil), "recovered packets are not NACKed")
			}
		})
	}
}

func TestFECPolicyClampsAndSkipsB(t *testing.T) {
	pol := UnequalFEC(0.5, 0.25)
	require.Equal(t, 0, parityCount(pol, PriorityB, 10))
	require.Equal(t, 3, parityCount(pol, PriorityP, 10))
	require.Equal(t, 5, parityCount(pol, PriorityI, 10))
	require.Equal(t, 16, parityCount(pol, PriorityI, 40), "at most 16 parity shards")
	require.Equal(t, 0, parityCount(pol, PriorityI, 65), "frames over 64 packets unprotected")
	require.Equal(t, 1, parityCount(UnequalFEC(5, 0), PriorityI, 1), "never more parity than data")
	require.Equal(t, 0, parityCount(nil, PriorityI, 10))
}

func TestReceiverRejectsBadParity(t *testing.T) {
	r := NewReceiver(ReceiverConfig{})
	p := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 98, SSRC: 7}, Payload: []byte{1, 0}}
	require.ErrorIs(t, r.OnRTP(t0, p), ErrMalformed, "too short")
	require.NoError(t, p.SetExtension(1, Descriptor{Count: 2}.AppendTo(nil)))
	p.Payload = []byte{2, 5, 0, 0, 0, 0}
	require.ErrorIs(t, r.OnRTP(t0, p), ErrMalformed, "index ≥ count")
	require.EqualValues(t, 2, r.Stats().BadParity)
}
