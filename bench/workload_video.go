package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// WorkloadVideo is the media issue's video stream (issue 6): 30 frames/s,
// GOP of 30 = I B B P B B P …, sizes I:P:B = 15 000 : 4 500 : 1 500 bytes
// (684 kbit/s), each frame useful only until 150 ms after capture.
const WorkloadVideo = "video"

// Video stream parameters.
const (
	VideoFPS      = 30
	VideoGOP      = 30
	VideoDeadline = 150 * time.Millisecond
	videoIBytes   = 15_000
	videoPBytes   = 4_500
	videoBBytes   = 1_500
	// videoHeader is frame number (4) + kind (1) + capture offset ns (8);
	// a SHA-256 of everything before it ends the frame.
	videoHeader = 13
)

// Frame kinds of the video workload.
const (
	FrameI byte = 'I'
	FrameP byte = 'P'
	FrameB byte = 'B'
)

// videoKind returns the kind of frame n of the stream.
func videoKind(n int) byte {
	switch i := n % VideoGOP; {
	case i == 0:
		return FrameI
	case i%3 == 0:
		return FrameP
	default:
		return FrameB
	}
}

func videoSize(k byte) int {
	switch k {
	case FrameI:
		return videoIBytes
	case FrameP:
		return videoPBytes
	}
	return videoBBytes
}

// videoFrame builds frame n captured at offset from the stream's epoch.
func videoFrame(n int, captured time.Duration, seed int64) []byte {
	k := videoKind(n)
	f := make([]byte, videoSize(k))
	binary.BigEndian.PutUint32(f, uint32(n))
	f[4] = k
	binary.BigEndian.PutUint64(f[5:], uint64(captured))
	r := rand.New(rand.NewPCG(uint64(seed), uint64(n)|1<<40))
	body := len(f) - sha256.Size
	for i := videoHeader; i < body; i++ {
		f[i] = byte(r.Uint32())
	}
	d := sha256.Sum256(f[:body])
	copy(f[body:], d[:])
	return f
}

// parseVideoFrame checks a received frame and returns its number, kind and
// capture offset.
func parseVideoFrame(f []byte) (int, byte, time.Duration, error) {
	if len(f) < videoHeader+sha256.Size {
		return 0, 0, 0, fmt.Errorf("video frame of %d bytes is too short", len(f))
	}
	body := len(f) - sha256.Size
	if d := sha256.Sum256(f[:body]); string(d[:]) != string(f[body:]) {
		return 0, 0, 0, fmt.Errorf("video frame digest mismatch (frame field %d)", binary.BigEndian.Uint32(f))
	}
	n, k := int(binary.BigEndian.Uint32(f)), f[4]
	if len(f) != videoSize(k) || videoKind(n) != k {
		return 0, 0, 0, fmt.Errorf("video frame %d: kind %q and size %d do not match the stream", n, k, len(f))
	}
	return n, k, time.Duration(binary.BigEndian.Uint64(f[5:])), nil
}

// VideoKindStats counts one kind's frames: on time (complete within the
// deadline), late, or never complete.
type VideoKindStats struct {
	Sent   int `json:"sent"`
	OnTime int `json:"on_time"`
	Late   int `json:"late"`
	Lost   int `json:"lost"`
}

// videoTally accumulates frame arrivals of one run.
type videoTally struct {
	count   int
	arrived []time.Duration // per frame; <0 not arrived
	bad     error
	dup     int
}

func newVideoTally(count int) *videoTally {
	t := &videoTally{count: count, arrived: make([]time.Duration, count)}
	for i := range t.arrived {
		t.arrived[i] = -1
	}
	return t
}

// add records a received frame at now (offset from the epoch).
func (t *videoTally) add(f []byte, now time.Duration) {
	n, _, captured, err := parseVideoFrame(f)
	switch {
	case err != nil:
		if t.bad == nil {
			t.bad = err
		}
	case n >= t.count:
		if t.bad == nil {
			t.bad = fmt.Errorf("video frame %d beyond the %d sent", n, t.count)
		}
	case t.arrived[n] >= 0:
		t.dup++
	default:
		t.arrived[n] = now - captured
	}
}

func (t *videoTally) complete() bool {
	for _, a := range t.arrived {
		if a < 0 {
			return false
		}
	}
	return true
}

// fill sets the video fields of res: per-kind counts, latency percentiles
// over every frame sent (frames never complete count as infinitely late).
func (t *videoTally) fill(res *Result, sent int) {
	res.FramesSent = sent
	res.Video = map[string]*VideoKindStats{"I": {}, "P": {}, "B": {}}
	var lat []float64
	for n := 0; n < sent && n < t.count; n++ {
		ks := res.Video[string(videoKind(n))]
		ks.Sent++
		a := t.arrived[n]
		switch {
		case a < 0:
			ks.Lost++
		case a <= VideoDeadline:
			ks.OnTime++
			lat = append(lat, ms(a))
		default:
			ks.Late++
			lat = append(lat, ms(a))
		}
	}
	res.LatenciesMs = lat
	fillPercentiles(res, lat, sent)
	res.MessagesSent, res.MessagesReceived, res.MessagesLost = sent, len(lat), sent-len(lat)
}

// runVideo streams count frames at VideoFPS from pair.Client to
// pair.Server as messages (every transport without a media mode carries
// each frame whole and reliably) and records when each frame is complete.
func runVideo(ctx context.Context, pair *Pair, count int, drain time.Duration, seed int64, changes []ProfileChange, res *Result) {
	epoch := time.Now()
	stopSchedule := applySchedule(pair.Link, changes)
	defer stopSchedule()
	interval := time.Second / VideoFPS
	last := epoch.Add(time.Duration(count-1) * interval)
	recvCtx, cancel := context.WithDeadline(ctx, last.Add(drain))
	defer cancel()

	tally := newVideoTally(count)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !tally.complete() {
			f, err := pair.Server.ReceiveMessage(recvCtx)
			now := time.Since(epoch)
			if err != nil {
				if recvCtx.Err() == nil && tally.bad == nil {
					tally.bad = fmt.Errorf("receive: %w", err)
				}
				return
			}
			tally.add(f, now)
			if tally.bad != nil {
				return
			}
		}
	}()
	// A transport that cannot carry the stream blocks its sender; once the
	// run is over, closing the pair unblocks it.
	var stalled atomic.Bool
	watchdog := context.AfterFunc(recvCtx, func() { stalled.Store(true); pair.Close() })
	sent, sendErr := 0, error(nil)
	for n := 0; n < count; n++ {
		if d := time.Until(epoch.Add(time.Duration(n) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if err := pair.Client.SendMessage(videoFrame(n, time.Since(epoch), seed)); err != nil {
			sendErr = err
			break
		}
		sent++
	}
	watchdog()
	<-done
	if stalled.Load() && sent < count {
		sendErr = nil
		res.Error = fmt.Sprintf("sender stalled: %d of %d frames handed to the transport by the end of the run", sent, count)
	}
	finishVideo(ctx, tally, count, sendErr, res)
}

// finishVideo sets the status of a video run from its tally; count is the
// stream's length (frames never sent count as never complete).
func finishVideo(ctx context.Context, tally *videoTally, count int, sendErr error, res *Result) {
	tally.fill(res, count)
	switch {
	case tally.bad != nil:
		res.Status, res.Error = StatusFailed, tally.bad.Error()
	case tally.dup > 0:
		res.Status, res.Error = StatusFailed, fmt.Sprintf("%d video frames delivered twice", tally.dup)
	case sendErr != nil:
		res.Status, res.Error = StatusFailed, fmt.Sprintf("send: %v", sendErr)
	case ctx.Err() != nil:
		res.Status, res.Error = StatusTimeout, "cell timeout during the video run"
	default:
		res.Status, res.Verified = StatusOK, true
	}
}
