// Package rtp is skiff's media mode: frames (I, P, B or a numeric priority)
// carried in RTP packets (github.com/pion/rtp) with priority- and
// deadline-aware sending and a receive-side jitter buffer.
//
// It owns: the frame descriptor header extension (descriptor.go), RTP
// validation and decoding (decode.go), packetisation (packetizer.go), RTX
// retransmission packets (RFC 4588, rtx.go), the rate budget (budget.go),
// unequal Reed-Solomon FEC by frame priority (fec.go), the priority-aware
// send queue and Sender state machine (send_queue.go, sender.go), the
// Receiver jitter buffer with NACK/PLI generation (receiver.go, playout.go,
// nack_tracker.go) and a Session that wires them to RTCP
// (package skiff/rtcp) over any net.PacketConn, RTP and RTCP multiplexed on
// one port (RFC 5761) (session.go).
//
// Sender and Receiver are pure state machines: they take `now`, read no
// clock and do no I/O. Only Session starts goroutines and uses timers (from
// package time, so testing/synctest drives it in fake time).
//
// Imports: the standard library, github.com/pion/rtp, github.com/pion/rtcp
// and skiff's rtcp, congestion and fec packages (fec brings rudp along
// indirectly). It must not import the root skiff package or netem (tests
// use netem).
package rtp
