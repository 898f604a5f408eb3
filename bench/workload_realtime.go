package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// Realtime workload parameters (issue 8: 200-byte messages at 50 Hz).
const (
	MessageSize = 200
	MessageRate = 50 // per second
	// msgHeader is seq (4) + send offset in ns (8); the last 32 bytes are
	// the SHA-256 of everything before them.
	msgHeader = 12
	msgBody   = MessageSize - sha256.Size
)

// realtimeMessage builds message seq, stamped with the sender's clock offset
// since epoch.
func realtimeMessage(seq uint32, sent time.Duration, seed int64) []byte {
	m := make([]byte, MessageSize)
	binary.BigEndian.PutUint32(m[0:], seq)
	binary.BigEndian.PutUint64(m[4:], uint64(sent))
	r := rand.New(rand.NewPCG(uint64(seed), uint64(seq)))
	for i := msgHeader; i < msgBody; i++ {
		m[i] = byte(r.Uint32())
	}
	d := sha256.Sum256(m[:msgBody])
	copy(m[msgBody:], d[:])
	return m
}

// parseRealtimeMessage checks m's length and digest and returns its sequence
// number and send offset.
func parseRealtimeMessage(m []byte) (uint32, time.Duration, error) {
	if len(m) != MessageSize {
		return 0, 0, fmt.Errorf("message of %d bytes, want %d", len(m), MessageSize)
	}
	d := sha256.Sum256(m[:msgBody])
	if string(d[:]) != string(m[msgBody:]) {
		return 0, 0, fmt.Errorf("message digest mismatch (seq field %d)", binary.BigEndian.Uint32(m))
	}
	return binary.BigEndian.Uint32(m), time.Duration(binary.BigEndian.Uint64(m[4:])), nil
}

// runRealtime sends count messages at MessageRate from pair.Client to
// pair.Server and waits up to drain after the last send for stragglers. The
// one-way latency of a message is its receive time minus the send time it
// carries (one process, one monotonic clock). Messages not received by then
// are lost; the percentiles count them as infinitely late.
func runRealtime(ctx context.Context, pair *Pair, count int, drain time.Duration, seed int64, changes []ProfileChange, res *Result) {
	epoch := time.Now()
	stopSchedule := applySchedule(pair.Link, changes)
	defer stopSchedule()
	interval := time.Second / MessageRate
	lastSend := epoch.Add(time.Duration(count-1) * interval)
	recvCtx, cancel := context.WithDeadline(ctx, lastSend.Add(drain))
	defer cancel()

	type recvOut struct {
		lat  []float64
		dup  int
		bad  error
		seen int
	}
	done := make(chan recvOut, 1)
	go func() {
		var o recvOut
		seen := make([]bool, count)
		for o.seen < count {
			m, err := pair.Server.ReceiveMessage(recvCtx)
			now := time.Since(epoch)
			if err != nil {
				if recvCtx.Err() == nil && o.bad == nil {
					o.bad = fmt.Errorf("receive: %w", err)
				}
				break
			}
			seq, sent, err := parseRealtimeMessage(m)
			switch {
			case err != nil:
				o.bad = err
			case int(seq) >= count:
				o.bad = fmt.Errorf("message seq %d out of range (sent %d)", seq, count)
			case seen[seq]:
				o.dup++
			default:
				seen[seq] = true
				o.seen++
				o.lat = append(o.lat, ms(now-sent))
			}
			if o.bad != nil {
				break
			}
		}
		done <- o
	}()

	// A transport that cannot keep up blocks its sender; once the run is
	// over, closing the pair unblocks it.
	var stalled atomic.Bool
	watchdog := context.AfterFunc(recvCtx, func() { stalled.Store(true); pair.Close() })
	var sendErr error
	sent := 0
	for i := 0; i < count; i++ {
		at := epoch.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if err := pair.Client.SendMessage(realtimeMessage(uint32(i), time.Since(epoch), seed)); err != nil {
			sendErr = err
			break
		}
		sent++
	}
	watchdog()
	o := <-done
	cancel()
	if stalled.Load() && sent < count {
		sendErr = nil
		res.Error = fmt.Sprintf("sender stalled: %d of %d messages handed to the transport by the end of the run", sent, count)
	}

	res.MessagesSent = sent
	res.MessagesReceived = o.seen
	res.MessagesLost = count - o.seen
	res.LatenciesMs = o.lat
	fillPercentiles(res, o.lat, count)
	switch {
	case o.bad != nil:
		res.Status = StatusFailed
		res.Error = o.bad.Error()
	case o.dup > 0:
		res.Status = StatusFailed
		res.Error = fmt.Sprintf("%d duplicate messages delivered", o.dup)
	case sendErr != nil:
		res.Status = StatusFailed
		res.Error = fmt.Sprintf("send after %d messages: %v", sent, sendErr)
	case ctx.Err() != nil:
		res.Status = StatusTimeout
		res.Error = "cell timeout during the realtime run"
	default:
		res.Status = StatusOK
		res.Verified = true
	}
}

// fillPercentiles sets p50/p99/max over count messages, of which the ones
// missing from lat count as +Inf (never arrived).
func fillPercentiles(res *Result, lat []float64, count int) {
	if count == 0 {
		return
	}
	all := make([]float64, count)
	copy(all, lat)
	for i := len(lat); i < count; i++ {
		all[i] = math.Inf(1)
	}
	slices.Sort(all)
	res.LatencyP50Ms = Millis(percentile(all, 0.50))
	res.LatencyP99Ms = Millis(percentile(all, 0.99))
	res.LatencyMaxMs = Millis(all[len(all)-1])
}

// percentile returns the nearest-rank percentile q of sorted values.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}
