package netem

import (
	"net"
	"net/netip"
)

// meta travels with a packet through a pipe: the addresses of in-memory
// datagrams (for routing and pcap) or the destination of a wrapped write.
type meta struct {
	src, dst netip.AddrPort
	to       net.Addr
}

// packet is one copy in flight. buf is owned by the pipe's buffer pool.
type packet struct {
	at   int64 // release (heap) or departure (bottleneck) time, ns since the pipe's base
	seq  uint64
	buf  []byte
	meta meta
}

// releaseHeap is a binary min-heap of packets ordered by (at, seq): the timer
// heap that schedules every delivery of one pipe.
type releaseHeap []packet

func (h releaseHeap) less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}

func (h *releaseHeap) push(p packet) {
	*h = append(*h, p)
	s := *h
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *releaseHeap) pop() packet {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = packet{}
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// fifo is a growable ring of packets: the bottleneck's waiting queue, and
// the release queue of packets that may not be reordered (their release times
// never decrease, so a FIFO orders them as a heap would, in O(1)).
type fifo struct {
	buf        []packet
	head, size int
}

func (q *fifo) len() int { return q.size }

func (q *fifo) push(p packet) {
	if q.size == len(q.buf) {
		nb := make([]packet, max(16, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

// front returns the oldest packet; the fifo must not be empty.
func (q *fifo) front() *packet { return &q.buf[q.head] }

func (q *fifo) pop() packet {
	p := q.buf[q.head]
	q.buf[q.head] = packet{}
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return p
}
