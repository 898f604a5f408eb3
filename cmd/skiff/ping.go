package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/skiffnet/skiff"
)

// pingHeader is seq (4 bytes) + send offset in ns (8 bytes).
const pingHeader = 12

func cmdPing(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ping", "ping [flags] ADDR\n\n"+
		"Measures round-trip time, jitter and loss over a skiff session to a 'skiff recv' or\n"+
		"'skiff pong' at ADDR. Probes are unreliable messages: a lost probe is not resent.")
	count := fs.Int("c", 10, "probes to send (0 = until Ctrl-C)")
	interval := time.Second
	fs.Var(durationValue{&interval}, "i", "interval between probes (e.g. 200ms)")
	wait := 2 * time.Second
	fs.Var(durationValue{&wait}, "W", "how long to wait for the last replies")
	size := fs.Int("s", 64, "probe size in bytes (at least 12)")
	var sf sessionFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("want ADDR, got %d arguments", fs.NArg())
	}
	switch {
	case *count < 0:
		return usageErr("-c %d: want 0 or more", *count)
	case interval <= 0:
		return usageErr("-i must be positive")
	case *size < pingHeader || *size > 60000:
		return usageErr("-s %d: want %d..60000", *size, pingHeader)
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	addr := fs.Arg(0)
	s, err := skiff.DialAddr(ctx, addr, cfg)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w (is 'skiff recv' or 'skiff pong' running there?)", addr, err)
	}
	defer closeSession(s)
	if err := s.SendMessage([]byte{'S', 'K', 'F', '1', kindPing}, skiff.ReliableOrdered); err != nil {
		return err
	}

	epoch := time.Now()
	var mu sync.Mutex
	var rtts []time.Duration
	seen := map[uint32]bool{}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := s.ReceiveMessage(rctx)
			now := time.Since(epoch)
			if err != nil {
				return
			}
			if len(m) < pingHeader {
				continue
			}
			seq := binary.BigEndian.Uint32(m)
			rtt := now - time.Duration(binary.BigEndian.Uint64(m[4:]))
			mu.Lock()
			dup := seen[seq]
			seen[seq] = true
			if !dup {
				rtts = append(rtts, rtt)
			}
			mu.Unlock()
			suffix := ""
			if dup {
				suffix = " (DUP)"
			}
			fmt.Fprintf(e.stdout, "%d bytes from %s: seq=%d time=%.2f ms%s\n", len(m), addr, seq, float64(rtt)/1e6, suffix)
		}
	}()

	fmt.Fprintf(e.stdout, "PING %s over skiff (%s recovery, %s): %d-byte probes\n", addr, cfg.Recovery, cfg.Congestion, *size)
	sent := 0
	probe := make([]byte, *size)
	t := time.NewTicker(interval)
	defer t.Stop()
loop:
	for seq := 0; *count == 0 || seq < *count; seq++ {
		binary.BigEndian.PutUint32(probe, uint32(seq))
		binary.BigEndian.PutUint64(probe[4:], uint64(time.Since(epoch)))
		if err := s.SendMessage(probe, skiff.Unreliable); err != nil {
			return fmt.Errorf("sending probe %d: %w", seq, err)
		}
		sent++
		if *count != 0 && seq == *count-1 {
			break
		}
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
		}
	}
	// Wait for the last replies (or until Ctrl-C).
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		mu.Lock()
		n := len(rtts)
		mu.Unlock()
		if n >= sent {
			break
		}
		select {
		case <-deadline.C:
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	st := summarizePings(sent, rtts)
	fmt.Fprintf(e.stdout, "--- %s skiff ping statistics ---\n%s\n", addr, st)
	if len(rtts) == 0 {
		return errors.New("no replies")
	}
	return nil
}

// pingStats summarises a ping run.
type pingStats struct {
	sent, received              int
	min, avg, max, mdev, jitter time.Duration
}

func summarizePings(sent int, rtts []time.Duration) pingStats {
	st := pingStats{sent: sent, received: len(rtts)}
	if len(rtts) == 0 {
		return st
	}
	st.min, st.max = slices.Min(rtts), slices.Max(rtts)
	var sum, sq float64
	for _, r := range rtts {
		sum += float64(r)
		sq += float64(r) * float64(r)
	}
	n := float64(len(rtts))
	mean := sum / n
	st.avg = time.Duration(mean)
	st.mdev = time.Duration(math.Sqrt(math.Max(0, sq/n-mean*mean)))
	// Jitter as RFC 3550 §6.4.1 smooths it: J += (|D| - J)/16 over
	// consecutive round-trip times in arrival order.
	var j float64
	for i := 1; i < len(rtts); i++ {
		d := math.Abs(float64(rtts[i] - rtts[i-1]))
		j += (d - j) / 16
	}
	st.jitter = time.Duration(j)
	return st
}

func (st pingStats) String() string {
	loss := 0.0
	if st.sent > 0 {
		loss = 100 * float64(st.sent-st.received) / float64(st.sent)
	}
	s := fmt.Sprintf("%d probes sent, %d received, %.1f%% loss", st.sent, st.received, loss)
	if st.received > 0 {
		ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
		s += fmt.Sprintf("\nrtt min/avg/max/mdev = %.2f/%.2f/%.2f/%.2f ms, jitter %.2f ms",
			ms(st.min), ms(st.avg), ms(st.max), ms(st.mdev), ms(st.jitter))
	}
	return s
}
