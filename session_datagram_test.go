package skiff

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/netem"
	"github.com/stretchr/testify/require"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Each WriteTo is one ReadFrom (boundaries kept, empty messages too), a
// short buffer truncates like UDP, and ReadFrom reports the session's peer.
func TestPacketConnMessageBoundaries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newNetemEnv(t, 1, netem.Profile{Delay: 5 * time.Millisecond}, netem.Profile{Delay: 5 * time.Millisecond}, nil, nil)
		defer e.close(t)
		a, b := e.c.PacketConn(ReliableOrdered), e.s.PacketConn(ReliableOrdered)
		defer a.Close()
		defer b.Close()
		require.Equal(t, e.c.LocalAddr(), a.LocalAddr())
		sizes := []int{1, 1200, 0, 5000, 3}
		for i, n := range sizes {
			m := testMessage(i)[:0]
			for j := range n {
				m = append(m, byte(i+j))
			}
			k, err := a.WriteTo(m, nil) // addr is ignored
			require.NoError(t, err)
			require.Equal(t, n, k)
		}
		buf := make([]byte, 8000)
		for i, n := range sizes {
			k, from, err := b.ReadFrom(buf)
			require.NoError(t, err)
			require.Equal(t, n, k, "message %d", i)
			for j := range n {
				require.Equal(t, byte(i+j), buf[j])
			}
			require.Equal(t, e.s.RemoteAddr().String(), from.String())
		}
		// Truncation: the rest of the message is discarded.
		_, err := a.WriteTo([]byte("hello world"), nil)
		require.NoError(t, err)
		_, err = a.WriteTo([]byte("next"), nil)
		require.NoError(t, err)
		small := make([]byte, 5)
		k, _, err := b.ReadFrom(small)
		require.NoError(t, err)
		require.Equal(t, "hello", string(small[:k]))
		k, _, err = b.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, "next", string(buf[:k]))
		// Too large.
		_, err = a.WriteTo(make([]byte, DefaultMaxMessageSize+1), nil)
		require.ErrorIs(t, err, ErrMessageTooLarge)
		// Unreliable modes pass through as well.
		u := e.c.PacketConn(Unreliable)
		defer u.Close()
		_, err = u.WriteTo([]byte("u"), e.s.LocalAddr())
		require.NoError(t, err)
		k, _, err = b.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, "u", string(buf[:k]))
	})
}

func TestPacketConnReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newNetemEnv(t, 2, netem.Profile{Delay: 5 * time.Millisecond}, netem.Profile{Delay: 5 * time.Millisecond}, nil, nil)
		defer e.close(t)
		a, b := e.c.PacketConn(Unreliable), e.s.PacketConn(Unreliable)
		defer a.Close()
		defer b.Close()
		buf := make([]byte, 100)

		// Expires while blocked.
		start := time.Now()
		require.NoError(t, b.SetReadDeadline(start.Add(100*time.Millisecond)))
		_, _, err := b.ReadFrom(buf)
		require.True(t, isTimeout(err), "%v", err)
		require.ErrorIs(t, err, ErrDeadlineExceeded)
		require.Equal(t, 100*time.Millisecond, time.Since(start))
		// Already expired: fails at once.
		_, _, err = b.ReadFrom(buf)
		require.True(t, isTimeout(err))

		// Extended while blocked: the pending call uses the new deadline.
		start = time.Now()
		require.NoError(t, b.SetReadDeadline(start.Add(50*time.Millisecond)))
		go func() {
			time.Sleep(20 * time.Millisecond)
			require.NoError(t, b.SetReadDeadline(start.Add(300*time.Millisecond)))
		}()
		_, _, err = b.ReadFrom(buf)
		require.True(t, isTimeout(err))
		require.Equal(t, 300*time.Millisecond, time.Since(start))

		// Cleared: a message arriving later is read; the session's own
		// read deadline is untouched.
		require.NoError(t, b.SetDeadline(time.Time{}))
		go func() {
			time.Sleep(time.Second)
			_, err := a.WriteTo([]byte("late"), nil)
			require.NoError(t, err)
		}()
		k, _, err := b.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, "late", string(buf[:k]))

		// The session's deadline applies too.
		require.NoError(t, e.s.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
		_, _, err = b.ReadFrom(buf)
		require.True(t, isTimeout(err))
		require.NoError(t, e.s.SetReadDeadline(time.Time{}))
	})
}

// A WriteTo blocked on a full send buffer (slow link) ends at the write
// deadline or on Close.
func TestPacketConnWriteDeadlineAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := netem.Profile{Delay: 10 * time.Millisecond, Bandwidth: 200_000}
		cfg := &Config{SendBufferSize: 64 << 10}
		e := newNetemEnv(t, 3, slow, netem.Profile{Delay: 10 * time.Millisecond}, cfg, nil)
		defer e.close(t)
		a := e.c.PacketConn(ReliableOrdered)
		msg := make([]byte, 60<<10)

		require.NoError(t, a.SetWriteDeadline(time.Now().Add(-time.Second)))
		_, err := a.WriteTo(msg, nil)
		require.True(t, isTimeout(err), "%v", err)
		require.NoError(t, a.SetWriteDeadline(time.Time{}))

		start := time.Now()
		require.NoError(t, a.SetWriteDeadline(start.Add(200*time.Millisecond)))
		writes := 0
		for {
			_, err = a.WriteTo(msg, nil)
			if err != nil {
				break
			}
			writes++
			require.Less(t, writes, 10, "the send buffer never filled")
		}
		require.True(t, isTimeout(err), "%v", err)
		require.Equal(t, 200*time.Millisecond, time.Since(start))
		t.Logf("%d writes of 60 KiB queued before the deadline", writes)

		// Close unblocks a blocked writer with net.ErrClosed, not a timeout.
		require.NoError(t, a.SetWriteDeadline(time.Time{}))
		errc := make(chan error, 1)
		go func() {
			for {
				if _, err := a.WriteTo(msg, nil); err != nil {
					errc <- err
					return
				}
			}
		}()
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		require.NoError(t, a.Close())
		err = <-errc
		require.ErrorIs(t, err, net.ErrClosed)
		require.False(t, isTimeout(err))
	})
}

// Close ends the view, not the session; the session ending ends the view
// with an error wrapping net.ErrClosed.
func TestPacketConnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newNetemEnv(t, 4, netem.Profile{Delay: 5 * time.Millisecond}, netem.Profile{Delay: 5 * time.Millisecond}, nil, nil)
		defer e.close(t)
		a, b := e.c.PacketConn(Unreliable), e.s.PacketConn(Unreliable)
		buf := make([]byte, 100)

		errc := make(chan error, 1)
		go func() {
			_, _, err := b.ReadFrom(buf)
			errc <- err
		}()
		synctest.Wait()
		require.NoError(t, b.Close())
		err := <-errc
		require.ErrorIs(t, err, net.ErrClosed)
		require.False(t, isTimeout(err))
		_, _, err = b.ReadFrom(buf)
		require.ErrorIs(t, err, net.ErrClosed)
		_, err = b.WriteTo([]byte("x"), nil)
		require.ErrorIs(t, err, net.ErrClosed)
		require.ErrorIs(t, b.Close(), net.ErrClosed)
		require.ErrorIs(t, b.SetDeadline(time.Now()), net.ErrClosed)

		// The session and a new view still work; the message stayed queued.
		_, err = a.WriteTo([]byte("still here"), nil)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m, err := e.s.ReceiveMessage(ctx)
		cancel()
		require.NoError(t, err)
		require.Equal(t, "still here", string(m))
		b2 := e.s.PacketConn(Unreliable)
		_, err = a.WriteTo([]byte("again"), nil)
		require.NoError(t, err)
		k, _, err := b2.ReadFrom(buf)
		require.NoError(t, err)
		require.Equal(t, "again", string(buf[:k]))

		// The peer closes the session: a blocked reader ends with
		// net.ErrClosed (so RTP-style reader loops stop), not a timeout.
		go func() {
			_, _, err := b2.ReadFrom(buf)
			errc <- err
		}()
		require.NoError(t, e.c.Close())
		err = <-errc
		require.ErrorIs(t, err, net.ErrClosed)
		require.False(t, isTimeout(err))
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		// Closing the local session too: writes fail with net.ErrClosed.
		require.NoError(t, e.s.Close())
		_, err = e.s.PacketConn(Unreliable).WriteTo([]byte("x"), nil)
		require.ErrorIs(t, err, net.ErrClosed)
		require.NoError(t, a.Close())
		require.NoError(t, b2.Close())
	})
}
