package netem

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// WrappedConn is a net.PacketConn whose writes pass through an impaired
// Pipe before reaching the wrapped conn; reads, deadlines and LocalAddr are
// the wrapped conn's. WriteTo never blocks on the link (the write deadline
// applies to the wrapped conn's own writes, done later by the pipe); errors
// of those delayed writes are counted, not returned. Safe for concurrent use
// if the wrapped conn is. Close closes the pipe, then the wrapped conn.
type WrappedConn struct {
	net.PacketConn
	pipe      *Pipe
	local     netip.AddrPort
	closed    atomic.Bool
	writeErrs atomic.Uint64
}

var _ net.PacketConn = (*WrappedConn)(nil)

// Wrap impairs what pc writes with profile outgoing, drawing randomness from
// seed. Wrap owns pc from now on.
func Wrap(pc net.PacketConn, outgoing Profile, seed int64) (*WrappedConn, error) {
	w := &WrappedConn{PacketConn: pc}
	if la, err := addrPortOf(pc.LocalAddr()); err == nil {
		w.local = la
	}
	p, err := newPipe(outgoing, seed, w.deliver)
	if err != nil {
		return nil, err
	}
	w.pipe = p
	return w, nil
}

func (w *WrappedConn) deliver(pkt []byte, md *meta) {
	if _, err := w.PacketConn.WriteTo(pkt, md.to); err != nil {
		w.writeErrs.Add(1)
	}
}

// WriteTo offers b to the impaired pipe and returns len(b).
func (w *WrappedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if w.closed.Load() {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.ErrClosed}
	}
	md := meta{to: addr, src: w.local}
	if ap, err := addrPortOf(addr); err == nil {
		md.dst = ap
	}
	w.pipe.send(b, md)
	return len(b), nil
}

// Pipe returns the outgoing pipe, for Stats, SetProfile, DropNth and
// SetCapture.
func (w *WrappedConn) Pipe() *Pipe { return w.pipe }

// WriteErrors counts delayed writes the wrapped conn refused.
func (w *WrappedConn) WriteErrors() uint64 { return w.writeErrs.Load() }

// Close stops the pipe (dropping what is in flight) and closes the wrapped
// conn.
func (w *WrappedConn) Close() error {
	w.closed.Store(true)
	w.pipe.Close()
	return w.PacketConn.Close()
}
