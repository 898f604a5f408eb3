package arp

import (
	"net/netip"
	"time"
)

// Cache maps IPv4 addresses to hardware addresses with an expiry. The zero
// value is not usable: use NewCache. Not safe for concurrent use (Host
// guards its own); it takes now as an argument and reads no clock.
type Cache struct {
	ttl     time.Duration
	max     int
	entries map[netip.Addr]cacheEntry
}

type cacheEntry struct {
	hw      [6]byte
	expires time.Time
}

// NewCache returns a cache whose entries live for ttl and which holds at most
// max entries (the soonest to expire is evicted first). Defaults: 60s, 1024.
func NewCache(ttl time.Duration, max int) *Cache {
	if ttl <= 0 {
		ttl = time.Minute
	}
	if max <= 0 {
		max = 1024
	}
	return &Cache{ttl: ttl, max: max, entries: map[netip.Addr]cacheEntry{}}
}

// Put records ip at hw until now+ttl.
func (c *Cache) Put(now time.Time, ip netip.Addr, hw [6]byte) {
	if _, ok := c.entries[ip]; !ok && len(c.entries) >= c.max {
		c.Expire(now)
		for len(c.entries) >= c.max {
			var victim netip.Addr
			var soonest time.Time
			for a, e := range c.entries {
				if soonest.IsZero() || e.expires.Before(soonest) {
					victim, soonest = a, e.expires
				}
			}
			delete(c.entries, victim)
		}
	}
	c.entries[ip] = cacheEntry{hw: hw, expires: now.Add(c.ttl)}
}

// Update refreshes ip only if it is already cached (RFC 826's merge flag).
// It reports whether it did.
func (c *Cache) Update(now time.Time, ip netip.Addr, hw [6]byte) bool {
	if e, ok := c.entries[ip]; ok && now.Before(e.expires) {
		c.entries[ip] = cacheEntry{hw: hw, expires: now.Add(c.ttl)}
		return true
	}
	return false
}

// Get returns ip's hardware address if cached and not expired at now.
func (c *Cache) Get(now time.Time, ip netip.Addr) ([6]byte, bool) {
	e, ok := c.entries[ip]
	if !ok || !now.Before(e.expires) {
		return [6]byte{}, false
	}
	return e.hw, true
}

// Len returns the number of entries held (expired ones included until Expire).
func (c *Cache) Len() int { return len(c.entries) }

// Expire removes entries expired at now and returns how many.
func (c *Cache) Expire(now time.Time) int {
	n := 0
	for a, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, a)
			n++
		}
	}
	return n
}
