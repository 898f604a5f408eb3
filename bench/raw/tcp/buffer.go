package tcp

import "sync"

// byteRing is a bounded FIFO of bytes shared between the stack's goroutine
// and the application's Read or Write calls. Every method is safe for
// concurrent use. Waiters call changed() and block on the returned channel,
// which is closed at the next change of length or state (a broadcast).
type byteRing struct {
	mu     sync.Mutex
	buf    []byte
	head   int   // index of the first byte
	n      int   // bytes held
	closed bool  // no more bytes will be added (EOF / write side shut)
	err    error // set on reset or abort: wins over data for writers, after data for readers
	ch     chan struct{}
	waited bool // someone holds ch: the next change must close it
}

func newByteRing(capacity int) *byteRing {
	return &byteRing{buf: make([]byte, capacity), ch: make(chan struct{})}
}

// changedLocked wakes every waiter; mu must be held. Without waiters it
// does nothing (no channel allocation per change).
func (r *byteRing) changedLocked() {
	if !r.waited {
		return
	}
	close(r.ch)
	r.ch = make(chan struct{})
	r.waited = false
}

// changed returns a channel closed at the next change.
func (r *byteRing) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waited = true
	return r.ch
}

// Len returns the number of bytes held.
func (r *byteRing) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Free returns the room left.
func (r *byteRing) Free() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf) - r.n
}

// write appends as much of p as fits and returns how many bytes it took.
func (r *byteRing) write(p []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeLocked(p)
}

func (r *byteRing) writeLocked(p []byte) int {
	if r.closed {
		return 0
	}
	total := 0
	for len(p) > 0 && r.n < len(r.buf) {
		tail := (r.head + r.n) % len(r.buf)
		end := len(r.buf)
		if tail < r.head {
			end = r.head
		}
		k := copy(r.buf[tail:end], p)
		r.n += k
		p = p[k:]
		total += k
	}
	if total > 0 {
		r.changedLocked()
	}
	return total
}

// peekAt copies bytes starting off bytes after the head into p and returns
// how many it copied; it does not consume them.
func (r *byteRing) peekAt(off int, p []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.n {
		return 0
	}
	want := min(len(p), r.n-off)
	start := (r.head + off) % len(r.buf)
	k := copy(p[:want], r.buf[start:])
	if k < want {
		k += copy(p[k:want], r.buf)
	}
	return k
}

// read consumes up to len(p) bytes into p.
func (r *byteRing) read(p []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.peekLocked(p)
	r.discardLocked(k)
	return k
}

func (r *byteRing) peekLocked(p []byte) int {
	want := min(len(p), r.n)
	if want == 0 {
		return 0
	}
	k := copy(p[:want], r.buf[r.head:])
	if k < want {
		k += copy(p[k:want], r.buf)
	}
	return k
}

// discard drops the first n bytes (fewer if fewer are held).
func (r *byteRing) discard(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.discardLocked(n)
}

func (r *byteRing) discardLocked(n int) {
	n = min(n, r.n)
	if n <= 0 {
		return
	}
	r.head = (r.head + n) % len(r.buf)
	r.n -= n
	if r.n == 0 {
		r.head = 0
	}
	r.changedLocked()
}

// close marks that no more bytes will be added.
func (r *byteRing) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.changedLocked()
	}
}

// fail records err (first one wins) and closes.
func (r *byteRing) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
	r.closed = true
	r.changedLocked()
}

// state returns the closed flag and error.
func (r *byteRing) state() (closed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed, r.err
}
