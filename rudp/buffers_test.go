package rudp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSendBuffer(t *testing.T) {
	t.Run("ack_releases_prefix_and_recycles_payloads", func(t *testing.T) {
		var released [][]byte
		sb := SendBuffer{Release: func(b []byte) { released = append(released, b) }}
		for i := 0; i < 40; i++ { // forces growth past 16
			sb.Push(KindStream, FrameFirst|FrameLast, 0, []byte{byte(i)})
		}
		require.Equal(t, 40, sb.Len())
		require.True(t, sb.Ack(1))
		require.Equal(t, uint64(0), sb.Base(), "hole at 0 keeps the prefix")
		require.False(t, sb.Ack(1), "already acked")
		require.True(t, sb.Ack(0))
		require.Equal(t, uint64(2), sb.Base())
		require.Len(t, released, 2)
		n, err := sb.AckBelow(10)
		require.NoError(t, err)
		require.Equal(t, 8, n)
		require.Equal(t, uint64(10), sb.Base())
		require.Equal(t, []byte{10}, sb.Get(10).Payload, "payload of a held frame is intact")
		_, err = sb.AckBelow(41)
		require.ErrorContains(t, err, "cumulative sequence 41 beyond the next unsent 40")
	})
	t.Run("retransmit_queue_skips_acked_and_duplicates", func(t *testing.T) {
		var sb SendBuffer
		for i := 0; i < 5; i++ {
			sb.Push(KindStream, FrameFirst|FrameLast, 0, nil)
		}
		require.True(t, sb.QueueRetransmit(1))
		require.False(t, sb.QueueRetransmit(1), "already queued")
		require.True(t, sb.QueueRetransmit(3))
		sb.Ack(1)
		f := sb.PopRetransmit()
		require.NotNil(t, f)
		require.Equal(t, uint64(3), f.Seq)
		require.Nil(t, sb.PopRetransmit())
		require.False(t, sb.QueueRetransmit(99))
		require.Equal(t, uint64(0), sb.OldestUnacked().Seq)
		require.Equal(t, uint64(4), sb.NewestUnacked().Seq)
	})
}

func TestRecvBuffer(t *testing.T) {
	t.Run("reorders_and_discards_duplicates", func(t *testing.T) {
		rb := RecvBuffer{Capacity: 8}
		require.Equal(t, InsertNew, rb.Insert(1, KindStream, 3, 0, []byte("b")))
		require.Equal(t, InsertDuplicate, rb.Insert(1, KindStream, 3, 0, []byte("b")))
		_, _, ok := rb.Pop()
		require.False(t, ok, "0 missing")
		require.Equal(t, InsertNew, rb.Insert(0, KindStream, 3, 0, []byte("a")))
		var got string
		for {
			_, s, ok := rb.Pop()
			if !ok {
				break
			}
			got += string(s.Payload)
		}
		require.Equal(t, "ab", got)
		require.Equal(t, uint64(2), rb.Cum())
		require.Equal(t, InsertDuplicate, rb.Insert(0, KindStream, 3, 0, nil), "below cum")
	})
	t.Run("bounded_window", func(t *testing.T) {
		rb := RecvBuffer{Capacity: 4}
		require.Equal(t, InsertOutOfWindow, rb.Insert(4, KindStream, 3, 0, nil))
		require.Equal(t, InsertNew, rb.Insert(3, KindStream, 3, 0, nil))
		require.Equal(t, InsertOutOfWindow, rb.Insert(1<<40, KindStream, 3, 0, nil))
		require.LessOrEqual(t, len(rb.ring), 4)
	})
	t.Run("consumed_slot_skipped_in_order", func(t *testing.T) {
		rb := RecvBuffer{Capacity: 8}
		rb.Insert(1, KindReliableUnordered, 3, 0, []byte("x"))
		require.Equal(t, []byte("x"), rb.Consume(1))
		require.Equal(t, InsertDuplicate, rb.Insert(1, KindReliableUnordered, 3, 0, []byte("x")))
		rb.Insert(0, KindStream, 3, 0, []byte("a"))
		_, s, ok := rb.Pop()
		require.True(t, ok)
		require.Equal(t, "a", string(s.Payload))
		_, s, ok = rb.Pop()
		require.True(t, ok)
		require.True(t, s.Consumed)
		require.Equal(t, 0, rb.Held())
	})
}
