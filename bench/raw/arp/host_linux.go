package arp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ErrNoReply is returned by Resolve when every request went unanswered.
var ErrNoReply = errors.New("arp: no reply")

// HostConfig configures NewHost. Zero fields take the defaults.
type HostConfig struct {
	Addr          netip.Addr    // the IPv4 address this host owns: sender of its requests, answered when asked
	CacheTTL      time.Duration // how long a learned address is trusted; 0 = 60s
	Retries       int           // requests sent by one Resolve; 0 = 3
	RetryInterval time.Duration // wait for a reply before re-asking; 0 = 250ms
	NoRespond     bool          // do not answer requests for Addr (resolver only)
}

// HostStats counts a Host's traffic.
type HostStats struct {
	RequestsSent, RequestsAnswered, RepliesReceived, Learned uint64
}

// Host owns an IPv4 address on an Ethernet interface through a Conn: it
// answers requests for that address, resolves neighbours and caches what it
// learns (RFC 826: replies, requests aimed at us, and updates of cached
// senders). One goroutine reads the Conn until Close.
//
// Create with NewHost; all methods are safe for concurrent use.
type Host struct {
	c   *Conn
	cfg HostConfig

	mu      sync.Mutex
	cache   *Cache
	waiters map[netip.Addr][]chan [6]byte
	stats   HostStats

	done chan struct{}
	err  error // the reader's terminal error, after done
}

// NewHost starts a Host on c (which it owns from now on).
func NewHost(c *Conn, cfg HostConfig) (*Host, error) {
	if !cfg.Addr.Is4() {
		c.Close()
		return nil, fmt.Errorf("arp: host address %v is not IPv4", cfg.Addr)
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 250 * time.Millisecond
	}
	h := &Host{c: c, cfg: cfg, cache: NewCache(cfg.CacheTTL, 0), waiters: map[netip.Addr][]chan [6]byte{}, done: make(chan struct{})}
	go h.readLoop()
	return h, nil
}

func (h *Host) readLoop() {
	defer close(h.done)
	var p Packet
	for {
		if _, err := h.c.ReadPacket(&p); err != nil {
			h.err = err
			return
		}
		h.handle(time.Now(), &p)
	}
}

func (h *Host) handle(now time.Time, p *Packet) {
	h.mu.Lock()
	learned := h.cache.Update(now, p.SenderIP, p.SenderHW)
	forUs := p.TargetIP == h.cfg.Addr
	if forUs && !learned && p.SenderIP.IsValid() && !p.SenderIP.IsUnspecified() {
		h.cache.Put(now, p.SenderIP, p.SenderHW)
		learned = true
	}
	if p.Op == OpReply && forUs {
		h.stats.RepliesReceived++
	}
	if learned {
		h.stats.Learned++
		for _, w := range h.waiters[p.SenderIP] {
			w <- p.SenderHW
		}
		delete(h.waiters, p.SenderIP)
	}
	answer := p.Op == OpRequest && forUs && !h.cfg.NoRespond
	if answer {
		h.stats.RequestsAnswered++
	}
	h.mu.Unlock()
	if answer {
		r := ReplyTo(p, h.c.HardwareAddr())
		_ = h.c.WritePacket(&r, p.SenderHW)
	}
}

// Lookup returns ip's cached hardware address, if fresh.
func (h *Host) Lookup(ip netip.Addr) (net.HardwareAddr, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hw, ok := h.cache.Get(time.Now(), ip)
	if !ok {
		return nil, false
	}
	return HardwareAddr(hw), true
}

// Resolve returns ip's hardware address from the cache, or broadcasts up to
// Retries requests, RetryInterval apart, and waits for the answer.
func (h *Host) Resolve(ctx context.Context, ip netip.Addr) (net.HardwareAddr, error) {
	if hw, ok := h.Lookup(ip); ok {
		return hw, nil
	}
	ch := make(chan [6]byte, 1)
	h.mu.Lock()
	h.waiters[ip] = append(h.waiters[ip], ch)
	h.mu.Unlock()
	defer h.forget(ip, ch)
	req := Request(h.c.HardwareAddr(), h.cfg.Addr, ip)
	t := time.NewTimer(h.cfg.RetryInterval)
	t.Stop() // re-armed before each wait; since Go 1.23 Stop leaves no stale tick
	defer t.Stop()
	for i := 0; i < h.cfg.Retries; i++ {
		if err := h.c.WritePacket(&req, Broadcast); err != nil {
			return nil, fmt.Errorf("arp: request for %s: %w", ip, err)
		}
		h.mu.Lock()
		h.stats.RequestsSent++
		h.mu.Unlock()
		t.Reset(h.cfg.RetryInterval)
		select {
		case hw := <-ch:
			return HardwareAddr(hw), nil
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-h.done:
			return nil, fmt.Errorf("arp: host closed: %w", h.err)
		}
	}
	return nil, fmt.Errorf("%w from %s after %d requests", ErrNoReply, ip, h.cfg.Retries)
}

func (h *Host) forget(ip netip.Addr, ch chan [6]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.waiters[ip]
	for i, w := range ws {
		if w == ch {
			h.waiters[ip] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(h.waiters[ip]) == 0 {
		delete(h.waiters, ip)
	}
}

// Stats returns the counters so far.
func (h *Host) Stats() HostStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// Close closes the Conn and waits for the reader to stop.
func (h *Host) Close() error {
	err := h.c.Close()
	<-h.done
	return err
}
