package skiff

import (
	"context"
	"encoding/binary"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

// testMessage builds message i: its index then a pattern derived from it;
// sizes vary from 4 bytes to several packets.
func testMessage(i int) []byte {
	n := 4 + (i*7919)%5000
	m := make([]byte, n)
	binary.BigEndian.PutUint32(m, uint32(i))
	for j := 4; j < n; j++ {
		m[j] = byte(i + j)
	}
	return m
}

// checkMessage returns the index of a message and fails if its content was
// altered.
func checkMessage(t testing.TB, m []byte) int {
	t.Helper()
	require.GreaterOrEqual(t, len(m), 4)
	i := int(binary.BigEndian.Uint32(m))
	require.Equal(t, testMessage(i), m, "message %d corrupted", i)
	return i
}

func TestMessageModes(t *testing.T) {
	p := netem.Profile{Delay: 10 * time.Millisecond, Jitter: 4 * time.Millisecond, AllowReorder: true, Loss: 0.05}
	const count = 300
	tests := []struct {
		d        Delivery
		reliable bool
		ordered  bool // strictly increasing indices
	}{
		{ReliableOrdered, true, true},
		{ReliableUnordered, true, false},
		{UnreliableSequenced, false, true},
		{Unreliable, false, false},
	}
	for _, tc := range tests {
		name := map[Delivery]string{ReliableOrdered: "reliable_ordered", ReliableUnordered: "reliable_unordered",
			UnreliableSequenced: "unreliable_sequenced", Unreliable: "unreliable"}[tc.d]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newNetemEnv(t, 11, p, p, nil, nil)
				go func() {
					for i := 0; i < count; i++ {
						require.NoError(t, e.c.SendMessage(testMessage(i), tc.d))
						time.Sleep(2 * time.Millisecond)
					}
					// A reliable end marker, so the receiver knows when to stop.
					require.NoError(t, e.c.SendMessage([]byte{0xff, 0xff, 0xff, 0xff}, ReliableOrdered))
				}()
				seen := map[int]bool{}
				var order []int
				outOfOrder := 0
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					m, err := e.s.ReceiveMessage(ctx)
					cancel()
					require.NoError(t, err)
					if binary.BigEndian.Uint32(m) == 0xffffffff {
						break
					}
					i := checkMessage(t, m)
					require.False(t, seen[i], "message %d delivered twice", i)
					seen[i] = true
					if len(order) > 0 && i < order[len(order)-1] {
						outOfOrder++
					}
					order = append(order, i)
				}
				if tc.reliable {
					// The marker is ordered after every reliable message
					// only for ReliableOrdered; drain the rest.
					for len(seen) < count {
						ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
						m, err := e.s.ReceiveMessage(ctx)
						cancel()
						require.NoError(t, err)
						i := checkMessage(t, m)
						require.False(t, seen[i])
						seen[i] = true
						if i < order[len(order)-1] {
							outOfOrder++
						}
						order = append(order, i)
					}
					require.Len(t, seen, count)
				} else {
					require.Less(t, len(seen), count, "5%% loss must lose some unreliable messages")
					require.Greater(t, len(seen), count/2)
				}
				if tc.ordered {
					require.Zero(t, outOfOrder, "order %v", order)
				}
				t.Logf("%s: %d/%d delivered, %d out of order, dropped %d", name, len(seen), count, outOfOrder,
					e.s.Stats().MessagesDropped)
				e.close(t)
			})
		})
	}
}

func TestLargeMessageOverLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := netem.Profile{Delay: 20 * time.Millisecond, Loss: 0.10, Bandwidth: 20e6}
		e := newNetemEnv(t, 12, p, p, nil, nil)
		big := randomData(1<<20, 3)
		require.NoError(t, e.c.SendMessage(big, ReliableOrdered))
		require.NoError(t, e.c.SendMessage([]byte("small after"), ReliableUnordered))
		m, err := e.s.ReceiveMessage(context.Background())
		require.NoError(t, err)
		if len(m) == len("small after") { // unordered may overtake
			m, err = e.s.ReceiveMessage(context.Background())
			require.NoError(t, err)
		}
		requireSameData(t, big, m)
		require.Greater(t, e.c.Stats().PacketsRetransmitted, uint64(0))
		e.close(t)
	})
}

func TestMessageLimitsAndBoundaries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{MaxMessageSize: 10000}
		e := newNetemEnv(t, 13, netem.Profile{}, netem.Profile{}, cfg, cfg)
		require.ErrorIs(t, e.c.SendMessage(make([]byte, 10001), ReliableOrdered), ErrMessageTooLarge)
		require.Error(t, e.c.SendMessage(nil, Delivery(42)))
		sizes := []int{0, 1, 1161, 1162, 1163, 9999}
		for _, n := range sizes {
			require.NoError(t, e.c.SendMessage(randomData(n, int64(n)), ReliableOrdered))
		}
		for _, n := range sizes {
			m, err := e.s.ReceiveMessage(context.Background())
			require.NoError(t, err)
			require.Equal(t, randomData(n, int64(n)), m, "size %d", n)
		}
		// Stream and messages do not mix.
		_, err := e.c.Write([]byte("stream"))
		require.NoError(t, err)
		require.NoError(t, e.c.SendMessage([]byte("msg"), ReliableOrdered))
		buf := make([]byte, 6)
		_, err = e.s.Read(buf)
		require.NoError(t, err)
		require.Equal(t, "stream", string(buf))
		m, err := e.s.ReceiveMessage(context.Background())
		require.NoError(t, err)
		require.Equal(t, "msg", string(m))
		e.close(t)
	})
}
