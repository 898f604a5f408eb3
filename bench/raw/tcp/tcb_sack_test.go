package tcp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSACKRecovery(t *testing.T) {
	a, b := handshake(t, testConfig())
	require.True(t, a.t.sackOK)
	require.True(t, b.t.sackOK)
	sendData(a, t0, 8000)
	segs := a.take()
	require.Len(t, segs, 8)
	now := t0.Add(10 * time.Millisecond)
	// Segments 1 and 4 are lost.
	var acks []sentSeg
	for i, s := range segs {
		if i == 1 || i == 4 {
			continue
		}
		b.t.handleSegment(now, &s.h, s.payload)
		b.t.output(now)
		acks = append(acks, b.take()...)
	}
	last := acks[len(acks)-1].h
	require.Equal(t, segs[1].h.Seq, last.Ack)
	require.Equal(t, 2, last.Options.NumSACK)
	require.Equal(t, SACKBlock{segs[5].h.Seq, segs[7].h.Seq + 1000}, last.Options.SACK[0]) // latest arrival first
	require.Equal(t, SACKBlock{segs[2].h.Seq, segs[4].h.Seq}, last.Options.SACK[1])

	for i := range acks {
		a.t.handleSegment(now, &acks[i].h, nil)
		a.t.output(now)
	}
	// Both holes are marked lost (≥ 3 segments SACKed above each) and
	// resent, and nothing SACKed is resent.
	re := a.take()
	var seqs []uint32
	for _, s := range re {
		if len(s.payload) > 0 {
			seqs = append(seqs, s.h.Seq)
		}
	}
	require.Equal(t, []uint32{segs[1].h.Seq, segs[4].h.Seq}, seqs)
	require.True(t, a.t.inRecovery)
	require.True(t, a.t.cc.InRecovery())
	for _, s := range re {
		b.t.handleSegment(now, &s.h, s.payload)
		b.t.output(now)
	}
	got := make([]byte, 9000)
	require.Equal(t, 8000, b.t.rb.read(got))
	deliverAll(now, b, a)
	require.Equal(t, a.t.sndMax, a.t.sndUna)
	require.False(t, a.t.inRecovery)
	require.Zero(t, a.t.pipe)
	require.Zero(t, a.t.lostCount)
	require.Empty(t, a.t.sent)
}

func TestSACKRetransmissionTimeoutSkipsSACKedData(t *testing.T) {
	a, b := handshake(t, testConfig())
	sendData(a, t0, 4000)
	segs := a.take()
	now := t0.Add(10 * time.Millisecond)
	b.t.handleSegment(now, &segs[2].h, segs[2].payload) // only the third arrives
	b.t.output(now)
	deliverAll(now, b, a)
	require.Equal(t, 3000, a.t.pipe) // 3 of 4 in the pipe
	rto := a.t.nextDeadline()
	a.t.onTimer(rto)
	re := a.take()
	require.Len(t, re, 1)
	require.Equal(t, segs[0].h.Seq, re[0].h.Seq)
	// As the window reopens, segments 1 and 3 follow; segment 2 (SACKed) does not.
	b.t.handleSegment(rto, &re[0].h, re[0].payload)
	b.t.output(rto)
	for range 5 {
		deliverAll(rto, b, a)
		deliverAll(rto, a, b)
	}
	got := make([]byte, 5000)
	require.Equal(t, 4000, b.t.rb.read(got))
	require.Equal(t, a.t.sndMax, a.t.sndUna)
	require.EqualValues(t, 3000, a.t.stats.BytesRetransmitted)
}
