package skiff

import "sync"

// bufPool is a free list of equally sized byte buffers shared by the
// sessions of one process. Get and Put are safe for concurrent use and do
// not allocate in steady state (unlike sync.Pool with slices).
type bufPool struct {
	size int
	mu   sync.Mutex
	free [][]byte
}

const maxFreeBuffers = 8192

var (
	poolsMu sync.Mutex
	pools   = map[int]*bufPool{}
)

// poolFor returns the shared pool of buffers of the given size.
func poolFor(size int) *bufPool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p := pools[size]
	if p == nil {
		p = &bufPool{size: size}
		pools[size] = p
	}
	return p
}

// get returns a buffer of length size.
func (p *bufPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b[:p.size]
	}
	p.mu.Unlock()
	return make([]byte, p.size)
}

// put returns b to the pool; buffers of another capacity are dropped.
func (p *bufPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxFreeBuffers {
		p.free = append(p.free, b[:p.size])
	}
	p.mu.Unlock()
}
