package skiff

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rudp"
)

// Path-MTU discovery, after RFC 8899 (DPLPMTUD) reduced to a search that
// ends: a session starts at Config.MTU, which every path carries, and once
// established probes larger sizes with padded pings. The first probe tries
// the ceiling (the smaller of both sides' largest datagram, 1452 by
// default), so a clean Ethernet-sized path is found in one round trip; a
// size whose probes are lost pmtuProbeAttempts times is ruled out and the
// search halves the range, until it is narrower than pmtuSearchStep.
//
// Probes are pings: ack-eliciting but outside the congestion window and
// invisible to loss detection (never "in flight", never a reliable frame),
// so a lost probe costs the probe and nothing else — no retransmission, no
// congestion event. A probe counts as lost when no acknowledgement covers
// it within one RTO.
//
// What it does not do: black-hole detection after the search (a path whose
// MTU shrinks mid-session). Frames cut at the larger size keep their size
// when resent; with a working ICMP path the kernel then fragments them (a
// UDP socket's default on Linux), where ICMP is filtered they are lost
// until the idle timeout. DisablePathMTUDiscovery avoids this on such paths.
const (
	pmtuProbeAttempts = 3  // lost probes of one size before it is ruled out
	pmtuSearchStep    = 16 // the search ends when fewer bytes remain unknown
)

// pmtuSearch is the discovery state; the run loop owns it.
type pmtuSearch struct {
	ceiling int       // largest size allowed: min of both sides' maxDatagram
	low     int       // largest size confirmed (the MTU in use)
	high    int       // largest size not ruled out
	size    int       // size of the next or outstanding probe
	pn      uint64    // packet number of the outstanding probe
	sentAt  time.Time // zero when no probe is outstanding
	lost    int       // lost probes of size
	active  bool      // the search is running
}

// applyPeerMaxDatagram applies the peer's advertised largest datagram
// (handshake) and starts the search when there is room above the MTU.
func (c *conn) applyPeerMaxDatagram(now time.Time, peer int) {
	if peer >= MinMTU {
		if peer < c.cfg.MTU {
			c.setMTU(peer) // the smaller of the two sides' sizes
		}
		c.pmtu.ceiling = min(c.pmtu.ceiling, peer)
	}
	p := &c.pmtu
	p.active = !c.cfg.DisablePathMTUDiscovery && p.ceiling-c.cfg.MTU >= pmtuSearchStep
	p.low, p.high, p.size = c.cfg.MTU, p.ceiling, p.ceiling
}

// pmtuDeadline is when the search needs the run loop: the outstanding
// probe's timeout, or now for the next probe.
func (c *conn) pmtuDeadline() time.Time {
	p := &c.pmtu
	switch {
	case !p.active || c.state != stateOpen:
		return time.Time{}
	case p.sentAt.IsZero():
		return c.now
	}
	return p.sentAt.Add(c.rtt.RTO())
}

// onPMTUTimer sends the next probe, or counts the outstanding one lost once
// its RTO has passed.
func (c *conn) onPMTUTimer() {
	p := &c.pmtu
	if !p.active || c.state != stateOpen {
		return
	}
	if !p.sentAt.IsZero() {
		if c.now.Before(p.sentAt.Add(c.rtt.RTO())) {
			return
		}
		p.sentAt = time.Time{}
		c.st.MTUProbesLost++
		if p.lost++; p.lost >= pmtuProbeAttempts {
			p.high = p.size - 1
			c.pmtuNext()
		}
		if !p.active {
			return
		}
	}
	c.out = rudp.Packet{Header: c.header(rudp.TypePing), PadTo: p.size}
	p.pn, p.sentAt = c.hist.NextPN(), c.now
	c.st.MTUProbesSent++
	c.sendPacket(&c.out, true, false, 0)
}

// pmtuOnAckRange notes an acknowledgement of packets lo..hi: if it covers
// the outstanding probe, the probe's size is confirmed and used from now on.
func (c *conn) pmtuOnAckRange(lo, hi uint64) {
	p := &c.pmtu
	if !p.active || p.sentAt.IsZero() || p.pn < lo || p.pn > hi {
		return
	}
	p.sentAt = time.Time{}
	p.low = p.size
	c.setMTU(p.size)
	if s, ok := c.cc.(congestion.DatagramSizeSetter); ok {
		s.SetMaxDatagramSize(p.size) // window arithmetic in the new segments
	}
	c.pmtuNext()
}

// pmtuNext picks the next size to probe (the middle of the unknown range)
// or ends the search.
func (c *conn) pmtuNext() {
	p := &c.pmtu
	p.lost = 0
	if p.high-p.low < pmtuSearchStep {
		p.active = false
		return
	}
	p.size = p.low + (p.high-p.low+1)/2
}
