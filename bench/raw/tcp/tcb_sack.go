package tcp

import (
	"fmt"
	"time"
)

// dupThresh is RFC 6675's DupThresh: a segment is lost once this many
// segments' worth of data above it has been SACKed (or this many duplicate
// ACKs arrived).
const dupThresh = 3

// processACKWithSACK is the ACK step when SACK was negotiated: the
// cumulative ACK, then the SACK blocks marking records of the scoreboard,
// then RFC 6675 loss marking. Lost records are retransmitted by output
// (before new data) as the pipe falls below the congestion window.
func (c *tcb) processACKWithSACK(now time.Time, h *Header) {
	ack := h.Ack
	if seqGT(ack, c.sndUna) {
		c.onNewAck(now, ack)
	}
	newly := c.applySACK(now, &h.Options)
	if ack == c.sndUna && newly && c.sndMax != c.sndUna {
		c.stats.DupAcksReceived++
		c.dupAcks++ // RFC 6675 §2: a duplicate ACK carries new SACK information
	}
	c.markLost(now)
}

// applySACK marks the records the SACK blocks cover and reports them to the
// congestion controller as acknowledged. It reports whether any record was
// newly SACKed. Blocks outside (SND.UNA, SND.MAX] are ignored (RFC 2018 §8).
func (c *tcb) applySACK(now time.Time, o *Options) bool {
	newly := false
	prior := c.flight()
	for _, b := range o.SACK[:min(max(o.NumSACK, 0), MaxSACKBlocks)] {
		if !seqLT(b.Left, b.Right) || !seqGT(b.Right, c.sndUna) || seqGT(b.Right, c.sndMax) {
			continue
		}
		for i := range c.sent {
			r := &c.sent[i]
			if seqGEQ(r.seq, b.Right) {
				break
			}
			if r.sacked || seqLT(r.seq, b.Left) || seqGT(r.end, b.Right) {
				continue
			}
			if r.inPipe() {
				c.pipe -= r.size()
			}
			if r.lost {
				r.lost = false
				c.lostCount--
			}
			r.sacked = true
			newly = true
			c.deliveredPN = max(c.deliveredPN, r.pn)
			if c.cc != nil {
				c.cc.OnPacketAcked(now, r.pn, r.size(), prior)
			}
		}
	}
	return newly
}

// markLost applies RFC 6675's IsLost: a record not yet SACKed with at least
// dupThresh segments of SACKed data above it is lost, as is the first one
// after dupThresh duplicate ACKs. A retransmission is lost again once
// dupThresh transmissions sent after it were delivered (RACK's idea, RFC
// 8985, counted in transmissions), instead of waiting for the RTO. The
// first loss of a round starts recovery; every loss is reported to the
// controller, which reduces at most once per window.
func (c *tcb) markLost(now time.Time) {
	sackedAbove := 0
	for i := len(c.sent) - 1; i >= 0; i-- {
		r := &c.sent[i]
		if r.sacked {
			sackedAbove += r.size()
			continue
		}
		if r.lost {
			continue
		}
		if r.retrans {
			if c.deliveredPN < r.pn+dupThresh {
				continue
			}
		} else if sackedAbove < dupThresh*c.mss && !(i == 0 && c.dupAcks >= dupThresh) {
			continue
		}
		prior := c.flight()
		r.lost = true
		c.lostCount++
		c.pipe -= r.size()
		if !c.inRecovery && seqGEQ(c.sndUna, c.recover) {
			c.inRecovery = true
			c.recover = c.sndMax
			c.stats.FastRetransmits++
		}
		if c.cc != nil {
			c.cc.OnCongestionEvent(now, r.pn, r.size(), prior)
		}
	}
}

// retransmitLost resends the first lost record; it reports false if there
// was none.
func (c *tcb) retransmitLost(now time.Time) bool {
	for i := range c.sent {
		r := c.sent[i]
		if !r.lost {
			continue
		}
		fin := c.finSent && r.end == c.finSeq+1
		n := r.size() - int(boolSeq(fin))
		c.transmit(now, r.seq, n, fin, i)
		return true
	}
	c.lostCount = 0 // defensive: the count drifted
	return false
}

// rtoWithSACK handles the retransmission timeout with a scoreboard: every
// record not SACKed is lost; the first is resent now, the rest as the
// window reopens (SACKed data is not resent).
func (c *tcb) rtoWithSACK(now time.Time) {
	for i := range c.sent {
		r := &c.sent[i]
		if r.inPipe() {
			c.pipe -= r.size()
			r.lost = true
			c.lostCount++
		}
		r.retrans = false // may be marked lost again by SACK after this
	}
	c.retransmitLost(now)
}

// fillSACK puts up to four SACK blocks describing the out-of-order data
// held for reassembly into o, the block holding the latest arrival first
// (RFC 2018 §4), as many as fit in room bytes of options (the segment's
// data plus options must stay within the MSS, RFC 9293 §3.7.1). It reports
// false if some blocks did not fit.
func (c *tcb) fillSACK(o *Options, room int) bool {
	o.NumSACK = 0
	if !c.sackOK || len(c.ooo) == 0 {
		return true
	}
	fit := min((room-4)/8, MaxSACKBlocks)
	if fit <= 0 {
		return false
	}
	var blocks [16]SACKBlock
	n := 0
	for _, s := range c.ooo {
		left, right := s.seq, s.seq+uint32(len(s.data))+boolSeq(s.fin)
		if !seqGT(right, c.rcvNxt) {
			continue
		}
		if n > 0 && seqLEQ(left, blocks[n-1].Right) {
			blocks[n-1].Right = seqMax(blocks[n-1].Right, right)
			continue
		}
		if n == len(blocks) {
			break
		}
		blocks[n] = SACKBlock{left, right}
		n++
	}
	first := 0
	for i := range n {
		if seqLEQ(blocks[i].Left, c.lastOOO) && seqLT(c.lastOOO, blocks[i].Right) {
			first = i
			break
		}
	}
	o.SACK[0] = blocks[first]
	o.NumSACK = 1
	for i := 0; i < n && o.NumSACK < fit; i++ {
		if i != first {
			o.SACK[o.NumSACK] = blocks[i]
			o.NumSACK++
		}
	}
	return o.NumSACK == min(n, MaxSACKBlocks)
}

// checkScoreboard verifies the scoreboard's bookkeeping (tests and fuzzing):
// records sorted and within [SND.UNA, SND.MAX], pipe and lostCount equal
// to what the records say.
func (c *tcb) checkScoreboard() error {
	pipe, lost := 0, 0
	prevEnd := c.sndUna
	for i, r := range c.sent {
		if seqLT(r.seq, prevEnd) && i > 0 || seqGT(r.end, c.sndMax) || !seqLT(r.seq, r.end) {
			return fmt.Errorf("tcp: record %d [%d, %d) out of order (previous end %d, una %d, max %d)", i, r.seq, r.end, prevEnd, c.sndUna, c.sndMax)
		}
		prevEnd = r.end
		if r.inPipe() {
			pipe += r.size()
		}
		if r.lost {
			lost++
		}
	}
	if c.sackOK && (pipe != c.pipe || lost != c.lostCount) {
		return fmt.Errorf("tcp: scoreboard drift: pipe %d (records say %d), lost %d (records say %d)", c.pipe, pipe, c.lostCount, lost)
	}
	// The receive window never promises more than the free buffer.
	if adv := int(int32(c.rcvAdv - c.rcvNxt)); c.state.synchronized() && !c.readClosed && adv > 0 &&
		c.rb.Len()+adv > c.cfg.RecvBuffer {
		return fmt.Errorf("tcp: receive window %d beyond the free buffer (%d of %d held)", adv, c.rb.Len(), c.cfg.RecvBuffer)
	}
	return nil
}
