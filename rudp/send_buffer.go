package rudp

import (
	"fmt"
	"time"
)

// Frame is one reliable data frame held by the sender until acknowledged.
type Frame struct {
	Seq       uint64
	Kind      FrameKind
	Flags     uint8
	FragIndex uint16
	// Payload is owned by the SendBuffer until the frame is released; it is
	// never reused while the frame may still be retransmitted.
	Payload []byte

	Acked         bool
	Queued        bool      // waiting in the retransmission queue
	LastPN        uint64    // packet number of the newest transmission
	LastSent      time.Time // when the newest transmission left
	Transmissions int
}

// SendBuffer holds the reliable frames from the oldest unacknowledged one
// to the newest, indexed by reliable sequence number, plus the queue of
// frames to retransmit. Its zero value is empty and ready to use. Not safe
// for concurrent use.
type SendBuffer struct {
	// Release, if set, is called with each frame's payload when the frame
	// leaves the buffer (acknowledged and at the front), so the owner can
	// recycle the memory.
	Release func([]byte)

	ring  []Frame // power-of-two length
	head  int     // ring index of sequence base
	base  uint64  // oldest held sequence number
	next  uint64  // next sequence number to assign
	bytes int     // payload bytes held
	retx  []uint64
}

// Base returns the oldest unreleased sequence number.
func (s *SendBuffer) Base() uint64 { return s.base }

// Next returns the sequence number the next pushed frame gets.
func (s *SendBuffer) Next() uint64 { return s.next }

// Len returns the number of frames held.
func (s *SendBuffer) Len() int { return int(s.next - s.base) }

// Bytes returns the payload bytes held.
func (s *SendBuffer) Bytes() int { return s.bytes }

// Push appends a new frame and returns it (valid until the next Push).
// The buffer takes ownership of payload.
func (s *SendBuffer) Push(kind FrameKind, flags uint8, fragIndex uint16, payload []byte) *Frame {
	if s.Len() == len(s.ring) {
		s.grow()
	}
	f := &s.ring[(s.head+s.Len())&(len(s.ring)-1)]
	*f = Frame{Seq: s.next, Kind: kind, Flags: flags, FragIndex: fragIndex, Payload: payload}
	s.next++
	s.bytes += len(payload)
	return f
}

func (s *SendBuffer) grow() {
	n := max(16, 2*len(s.ring))
	r := make([]Frame, n)
	for i := 0; i < s.Len(); i++ {
		r[i] = s.ring[(s.head+i)&(len(s.ring)-1)]
	}
	s.ring, s.head = r, 0
}

// Get returns the frame with sequence seq, or nil if it was released or
// never pushed.
func (s *SendBuffer) Get(seq uint64) *Frame {
	if seq < s.base || seq >= s.next {
		return nil
	}
	return &s.ring[(s.head+int(seq-s.base))&(len(s.ring)-1)]
}

// Ack marks seq acknowledged and releases the acknowledged prefix. It
// reports whether the frame was newly acknowledged.
func (s *SendBuffer) Ack(seq uint64) bool {
	f := s.Get(seq)
	if f == nil || f.Acked {
		return false
	}
	f.Acked = true
	s.releasePrefix()
	return true
}

// AckBelow acknowledges every frame below cum (the receiver's cumulative
// sequence) and returns how many were newly acknowledged. A cum beyond
// Next is an error naming both.
func (s *SendBuffer) AckBelow(cum uint64) (int, error) {
	if cum > s.next {
		return 0, fmt.Errorf("%w: cumulative sequence %d beyond the next unsent %d", ErrMalformed, cum, s.next)
	}
	n := 0
	for seq := s.base; seq < cum; seq++ {
		f := s.Get(seq)
		if !f.Acked {
			f.Acked = true
			n++
		}
	}
	s.releasePrefix()
	return n, nil
}

func (s *SendBuffer) releasePrefix() {
	for s.base < s.next {
		f := &s.ring[s.head]
		if !f.Acked {
			return
		}
		s.bytes -= len(f.Payload)
		if s.Release != nil && f.Payload != nil {
			s.Release(f.Payload)
		}
		*f = Frame{}
		s.head = (s.head + 1) & (len(s.ring) - 1)
		s.base++
	}
}

// QueueRetransmit puts the frame in the retransmission queue unless it is
// acknowledged, released or already queued; it reports whether it did.
func (s *SendBuffer) QueueRetransmit(seq uint64) bool {
	f := s.Get(seq)
	if f == nil || f.Acked || f.Queued {
		return false
	}
	f.Queued = true
	s.retx = append(s.retx, seq)
	return true
}

// PendingRetransmits returns the length of the retransmission queue
// (entries acknowledged since queuing included).
func (s *SendBuffer) PendingRetransmits() int { return len(s.retx) }

// PopRetransmit returns the next frame to retransmit, skipping frames that
// were acknowledged meanwhile; nil when the queue is empty.
func (s *SendBuffer) PopRetransmit() *Frame {
	for len(s.retx) > 0 {
		seq := s.retx[0]
		s.retx = s.retx[1:]
		if len(s.retx) == 0 {
			s.retx = s.retx[:0:0]
		}
		if f := s.Get(seq); f != nil && f.Queued {
			f.Queued = false
			if !f.Acked {
				return f
			}
		}
	}
	return nil
}

// OldestUnacked returns the oldest unacknowledged frame, or nil.
func (s *SendBuffer) OldestUnacked() *Frame {
	for seq := s.base; seq < s.next; seq++ {
		if f := s.Get(seq); !f.Acked {
			return f
		}
	}
	return nil
}

// NewestUnacked returns the newest unacknowledged frame, or nil.
func (s *SendBuffer) NewestUnacked() *Frame {
	for seq := s.next; seq > s.base; seq-- {
		if f := s.Get(seq - 1); !f.Acked {
			return f
		}
	}
	return nil
}
