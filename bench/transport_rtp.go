package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skiffnet/skiff/rtp"
)

// rtpMediaTransport is skiff's media mode (package rtp) over the link's
// plain packet conns: RTP with RTCP feedback, priority-aware drop (B before
// P, never I), deadline-aware NACK/RTX and a jitter buffer that plays each
// frame out at its deadline. It carries only the video workload.
type rtpMediaTransport struct{}

func newRTPMediaTransport() *rtpMediaTransport { return &rtpMediaTransport{} }

func (t *rtpMediaTransport) Name() string { return "rtp-media" }

func (t *rtpMediaTransport) Description() string {
	return "skiff media mode (rtp/rtcp): priority-aware drop, deadline-aware NACK/RTX, 2 Mbit/s budget (video only)"
}

func (t *rtpMediaTransport) Available() error { return nil }

func (t *rtpMediaTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	return nil, fmt.Errorf("%w: the media mode carries only the video workload", ErrUnavailable)
}

// videoRunner is implemented by transports with their own media path.
type videoRunner interface {
	runVideo(ctx context.Context, spec LinkSpec, count int, drain time.Duration, seed int64, changes []ProfileChange, res *Result)
}

var _ videoRunner = (*rtpMediaTransport)(nil)

func (t *rtpMediaTransport) runVideo(ctx context.Context, spec LinkSpec, count int, drain time.Duration, seed int64,
	changes []ProfileChange, res *Result) {
	ml, err := newMemLink(spec)
	if err != nil {
		res.Status, res.Error = StatusFailed, "set-up: "+err.Error()
		return
	}
	defer ml.Close()
	rtt := 2 * BaseDelay
	snd, err := rtp.NewSession(rtp.SessionConfig{Conn: ml.client, Peer: ml.server.LocalAddr(), Seed: seed,
		Sender: rtp.SenderConfig{SSRC: 0x5eed0001, InitialRTT: rtt}})
	if err != nil {
		res.Status, res.Error = StatusFailed, "set-up: "+err.Error()
		return
	}
	defer snd.Close()
	// Playout counts from the fastest transit seen (10 ms here): a frame
	// plays out VideoDeadline after capture, minus a little serialisation.
	rcv, err := rtp.NewSession(rtp.SessionConfig{Conn: ml.server, Peer: ml.client.LocalAddr(), Seed: seed + 1,
		Sender:   rtp.SenderConfig{SSRC: 0x5eed0002},
		Receiver: rtp.ReceiverConfig{PlayoutDelay: VideoDeadline - BaseDelay - 5*time.Millisecond, InitialRTT: rtt}})
	if err != nil {
		res.Status, res.Error = StatusFailed, "set-up: "+err.Error()
		return
	}
	defer rcv.Close()

	epoch := time.Now()
	stopSchedule := applySchedule(ml, changes)
	defer stopSchedule()
	interval := time.Second / VideoFPS
	end := epoch.Add(time.Duration(count-1) * interval).Add(drain)
	tally := newVideoTally(count)
	done := make(chan struct{})
	go func() {
		defer close(done)
		timer := time.NewTimer(time.Until(end))
		defer timer.Stop()
		for !tally.complete() && tally.bad == nil {
			select {
			case f, ok := <-rcv.Frames():
				if !ok {
					return
				}
				tally.add(f.Payload, f.CompletedAt.Sub(epoch))
			case <-timer.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var sendErr error
	var lastRef rtp.FrameID
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
		captured := time.Since(epoch)
		f := rtp.Frame{Timestamp: time.Duration(n) * interval, Deadline: epoch.Add(captured + VideoDeadline),
			Payload: videoFrame(n, captured, seed)}
		switch videoKind(n) {
		case FrameI:
			f.Kind = rtp.KindI
		case FrameP:
			f.Kind, f.DependsOn = rtp.KindP, lastRef
		default:
			f.Kind, f.DependsOn = rtp.KindB, lastRef
		}
		id, err := snd.Send(f)
		if err != nil {
			sendErr = err
			break
		}
		if f.Kind != rtp.KindB {
			lastRef = id
		}
	}
	<-done
	res.Data, res.Return = ml.DataStats(), ml.ReturnStats()
	if errors.Is(sendErr, rtp.ErrClosed) && ctx.Err() != nil {
		sendErr = nil
	}
	finishVideo(ctx, tally, count, sendErr, res)
}
