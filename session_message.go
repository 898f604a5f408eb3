package skiff

import (
	"context"
	"fmt"
	"io"

	"github.com/skiffnet/skiff/internal/deadline"
	"github.com/skiffnet/skiff/rudp"
)

// Delivery selects the service SendMessage gives a message.
type Delivery int

// Delivery modes.
const (
	// ReliableOrdered messages all arrive, in the order sent.
	ReliableOrdered Delivery = iota
	// ReliableUnordered messages all arrive, each as soon as it is complete.
	ReliableUnordered
	// UnreliableSequenced messages may be lost; one older than a message
	// already delivered is dropped.
	UnreliableSequenced
	// Unreliable messages may be lost or arrive in any order.
	Unreliable
)

func (d Delivery) kind() (rudp.FrameKind, error) {
	switch d {
	case ReliableOrdered:
		return rudp.KindReliableOrdered, nil
	case ReliableUnordered:
		return rudp.KindReliableUnordered, nil
	case UnreliableSequenced:
		return rudp.KindUnreliableSequenced, nil
	case Unreliable:
		return rudp.KindUnreliable, nil
	}
	return 0, fmt.Errorf("skiff: unknown Delivery %d", int(d))
}

// SendMessage queues one message with delivery mode d. The message is
// delivered whole (fragmented and reassembled as needed) or, for the
// unreliable modes, not at all. It blocks while the send buffer is full
// (a message larger than the buffer waits for it to drain), until the write
// deadline.
func (s *Session) SendMessage(p []byte, d Delivery) error {
	return s.sendMessageUntil(p, d, nil)
}

// sendMessageUntil queues p as SendMessage does; with a non-nil stop it also
// gives up with context.DeadlineExceeded when stop's channel closes (the
// deadline or Close of a PacketConn view).
func (s *Session) sendMessageUntil(p []byte, d Delivery, stop *deadline.Deadline) error {
	kind, err := d.kind()
	if err != nil {
		return err
	}
	if len(p) > s.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrMessageTooLarge, len(p), s.cfg.MaxMessageSize)
	}
	for {
		s.mu.Lock()
		if err := s.writeErrLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
		if deadline.Closed(s.wd.Wait()) {
			s.mu.Unlock()
			return ErrDeadlineExceeded
		}
		var stopC <-chan struct{} // nil: never ready
		if stop != nil {
			stopC = stop.Wait()
			if deadline.Closed(stopC) {
				s.mu.Unlock()
				return context.DeadlineExceeded
			}
		}
		if s.sendQBytes == 0 || s.sendQBytes+len(p) <= s.cfg.SendBufferSize {
			s.sendQ = append(s.sendQ, outItem{kind: kind, data: append([]byte(nil), p...)})
			s.sendQBytes += max(len(p), 1)
			s.mu.Unlock()
			signal(s.wake)
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.writable:
		case <-s.wd.Wait():
		case <-stopC:
		case <-s.done:
		}
	}
}

// ReceiveMessage returns the next message, waiting until one arrives, ctx
// ends or the read deadline passes.
func (s *Session) ReceiveMessage(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) > 0 {
			m := s.msgs[0]
			s.msgs[0] = nil
			s.msgs = s.msgs[1:]
			s.msgBytes -= len(m)
			more := len(s.msgs) > 0
			s.mu.Unlock()
			if more {
				signal(s.msgReady)
			}
			signal(s.wake)
			return m, nil
		}
		if s.closeCalled || s.abortCalled {
			s.mu.Unlock()
			return nil, fmt.Errorf("skiff: receive message: %w", ErrClosed)
		}
		if s.finished || s.remoteFin {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
		s.mu.Unlock()
		if deadline.Closed(s.rd.Wait()) {
			return nil, ErrDeadlineExceeded
		}
		select {
		case <-s.msgReady:
		case <-s.rd.Wait():
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
