package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// bulkChunk is the size of each Write of the bulk sender.
const bulkChunk = 64 << 10

// bulkPayload returns size pseudo-random bytes derived from seed (so no
// transport can profit from compressible data) and their SHA-256.
func bulkPayload(size int, seed int64) ([]byte, [32]byte) {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(seed), 0x6b756c6b))
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
	return b, sha256.Sum256(b)
}

// runBulk sends payload from pair.Client to pair.Server and fills the bulk
// fields of res. The clock starts just before the first Write (connection
// set-up excluded) and stops when the receiver has the last byte. ctx bounds
// the whole transfer; on expiry the pair is closed and the result is a
// timeout with the bytes delivered so far.
//
// light, when not nil, is called once as soon as the transfer's rate over the
// last second stays below lightRate (bits/s) after lightAfter: the runner
// then lets the next cell start beside this one, which now needs little CPU.
func runBulk(ctx context.Context, pair *Pair, payload []byte, sum [32]byte, changes []ProfileChange, res *Result,
	light func(), lightRate float64, lightAfter time.Duration) {
	res.PayloadBytes = int64(len(payload))
	start := time.Now()
	stopSchedule := applySchedule(pair.Link, changes)
	defer stopSchedule()
	var delivered atomic.Int64
	stopWatch := watchRate(&delivered, light, lightRate, lightAfter)
	defer stopWatch()

	sendErr := make(chan error, 1)
	go func() {
		var err error
		for off := 0; off < len(payload) && err == nil; off += bulkChunk {
			_, err = pair.Client.Write(payload[off:min(off+bulkChunk, len(payload))])
		}
		sendErr <- err
	}()

	type recvResult struct {
		n    int64
		sum  []byte
		err  error
		done time.Time
	}
	recvDone := make(chan recvResult, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 64<<10)
		var n int64
		for n < int64(len(payload)) {
			k, err := pair.Server.Read(buf[:min(int64(len(buf)), int64(len(payload))-n)])
			h.Write(buf[:k])
			n += int64(k)
			delivered.Store(n)
			if err != nil {
				if errors.Is(err, io.EOF) && n == int64(len(payload)) {
					break
				}
				recvDone <- recvResult{n: n, err: err, done: time.Now()}
				return
			}
		}
		recvDone <- recvResult{n: n, sum: h.Sum(nil), done: time.Now()}
	}()

	var rr recvResult
	select {
	case rr = <-recvDone:
	case <-ctx.Done():
		pair.Close()
		rr = <-recvDone
		res.Status = StatusTimeout
		res.Error = fmt.Sprintf("did not finish: %d of %d bytes in %.1f s", rr.n, len(payload), time.Since(start).Seconds())
	}
	elapsed := rr.done.Sub(start)
	res.DeliveredBytes = rr.n
	res.CompletionMs = ms(elapsed)
	if elapsed > 0 {
		res.GoodputMbps = float64(rr.n) * 8 / elapsed.Seconds() / 1e6
	}
	if res.Status == StatusTimeout {
		return
	}
	switch {
	case rr.err != nil:
		res.Status = StatusFailed
		res.Error = fmt.Sprintf("receive after %d of %d bytes: %v", rr.n, len(payload), rr.err)
	case rr.n != int64(len(payload)):
		res.Status = StatusFailed
		res.Error = fmt.Sprintf("shortfall: %d of %d bytes", rr.n, len(payload))
	case !bytes.Equal(rr.sum, sum[:]):
		res.Status = StatusFailed
		res.Error = fmt.Sprintf("SHA-256 mismatch: got %x, want %x", rr.sum[:8], sum[:8])
	default:
		res.Status = StatusOK
		res.Verified = true
	}
	// The sender may still be blocked on its last Write under some
	// transports; its error only matters if the receiver failed.
	select {
	case err := <-sendErr:
		if err != nil && res.Status != StatusOK && res.Error == "" {
			res.Error = "send: " + err.Error()
		}
	default:
	}
}

// applySchedule applies the profile changes at their offsets from now and
// returns a function that cancels those not yet applied.
func applySchedule(l Link, changes []ProfileChange) (stop func()) {
	if len(changes) == 0 {
		return func() {}
	}
	timers := make([]*time.Timer, 0, len(changes))
	for _, c := range changes {
		c := c
		timers = append(timers, time.AfterFunc(c.At, func() { _ = l.SetProfile(c.Link) }))
	}
	return func() {
		for _, t := range timers {
			t.Stop()
		}
	}
}

// watchRate calls light once when the rate of delivered over the last second
// falls below lightRate bits/s, checking every 250 ms from lightAfter on.
func watchRate(delivered *atomic.Int64, light func(), lightRate float64, lightAfter time.Duration) (stop func()) {
	if light == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		const step = 250 * time.Millisecond
		const window = 4 // steps: one second
		var hist []int64
		t := time.NewTicker(step)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			hist = append(hist, delivered.Load())
			if len(hist) <= window || time.Since(start) < lightAfter {
				continue
			}
			bits := float64(hist[len(hist)-1]-hist[len(hist)-1-window]) * 8
			if bits/(step*window).Seconds() < lightRate {
				light()
				return
			}
		}
	}()
	return func() { close(done) }
}
