package tunlink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffnet/skiff/bench/raw/netns"
	"github.com/skiffnet/skiff/netem"
)

// TCPConfig configures a kernel TCP bulk transfer from A to B.
type TCPConfig struct {
	Bytes      int64         // bytes to move; 0 = 8 MiB
	Congestion string        // TCP_CONGESTION of the sender ("reno", "cubic", "bbr"); "" = the namespace default
	Port       uint16        // B's listening port; 0 = 5201
	Timeout    time.Duration // whole transfer; 0 = 2 minutes
}

// TCPResult is what RunTCP measured. Duration runs from just before connect
// until the receiver has read the last byte; Bytes is what the receiver read.
// AToB and BToA are the pipes' counters over the transfer only (differences).
type TCPResult struct {
	Bytes      int64
	Duration   time.Duration
	Congestion string // the algorithm the sender's socket reported using
	Intact     bool   // the receiver's SHA-256 matched the sender's
	AToB, BToA netem.Stats
}

// Goodput returns Bytes*8/Duration in bits per second.
func (r TCPResult) Goodput() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Duration.Seconds()
}

// CongestionControls returns the kernel's available TCP congestion control
// algorithms as seen from namespace ns (the list is kernel-wide; modules
// cannot be loaded here, so this is what TCP_CONGESTION accepts).
func CongestionControls(ns *netns.NS) ([]string, error) {
	s, err := ns.ReadSysctl("net.ipv4.tcp_available_congestion_control")
	if err != nil {
		return nil, err
	}
	return strings.Fields(s), nil
}

// RunTCP moves cfg.Bytes of a deterministic pattern over one kernel TCP
// connection from namespace A to a listener in B across the link, and
// verifies it byte for byte (SHA-256 on both ends).
func (l *Link) RunTCP(ctx context.Context, cfg TCPConfig) (TCPResult, error) {
	if cfg.Bytes == 0 {
		cfg.Bytes = 8 << 20
	}
	if cfg.Port == 0 {
		cfg.Port = 5201
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	dst := netip.AddrPortFrom(l.AddrB, cfg.Port)
	ln, err := l.B.Listen("tcp4", dst.String())
	if err != nil {
		return TCPResult{}, fmt.Errorf("tunlink: listen in B: %w", err)
	}
	defer ln.Close()

	type recvResult struct {
		n   int64
		sum []byte
		end time.Time
		err error
	}
	recvc := make(chan recvResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			recvc <- recvResult{err: err}
			return
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
		h := sha256.New()
		n, err := io.Copy(h, c)
		recvc <- recvResult{n: n, sum: h.Sum(nil), end: time.Now(), err: err}
	}()

	aToB0, bToA0 := l.Stats()
	var used string
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if cfg.Congestion != "" {
				serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cfg.Congestion)
			}
		})
		if serr != nil {
			return fmt.Errorf("TCP_CONGESTION %q: %w", cfg.Congestion, serr)
		}
		return err
	}}
	start := time.Now()
	c, err := l.A.Dial(ctx, d, "tcp4", dst.String())
	if err != nil {
		ln.Close()
		<-recvc
		return TCPResult{}, fmt.Errorf("tunlink: dial from A: %w", err)
	}
	if rc, err := c.(*net.TCPConn).SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			used, _ = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
		})
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	h := sha256.New()
	_, werr := io.Copy(c, io.TeeReader(io.LimitReader(newPattern(), cfg.Bytes), h))
	cerr := c.Close()
	stop()
	r := <-recvc
	aToB1, bToA1 := l.Stats()
	res := TCPResult{Bytes: r.n, Duration: r.end.Sub(start), Congestion: strings.TrimRight(used, "\x00"),
		AToB: diff(aToB1, aToB0), BToA: diff(bToA1, bToA0)}
	res.Intact = r.err == nil && r.n == cfg.Bytes && bytes.Equal(r.sum, h.Sum(nil))
	if err := errors.Join(werr, cerr, r.err); err != nil {
		return res, fmt.Errorf("tunlink: TCP transfer (%d of %d bytes): %w", r.n, cfg.Bytes, err)
	}
	if !res.Intact {
		return res, fmt.Errorf("tunlink: TCP transfer corrupted: %d of %d bytes, checksums differ", r.n, cfg.Bytes)
	}
	return res, nil
}

// RunKernelTCP builds a Link from link, runs one transfer and tears it down:
// the one-call form for benchmarks.
func RunKernelTCP(ctx context.Context, link Config, tcp TCPConfig) (TCPResult, error) {
	l, err := New(link)
	if err != nil {
		return TCPResult{}, err
	}
	defer l.Close()
	return l.RunTCP(ctx, tcp)
}

// diff returns the counters accumulated between b and a (gauges from a).
func diff(a, b netem.Stats) netem.Stats {
	return netem.Stats{
		OfferedPackets: a.OfferedPackets - b.OfferedPackets, OfferedBytes: a.OfferedBytes - b.OfferedBytes,
		DeliveredPackets: a.DeliveredPackets - b.DeliveredPackets, DeliveredBytes: a.DeliveredBytes - b.DeliveredBytes,
		DroppedLoss: a.DroppedLoss - b.DroppedLoss, DroppedBurst: a.DroppedBurst - b.DroppedBurst,
		DroppedQueue: a.DroppedQueue - b.DroppedQueue, DroppedMTU: a.DroppedMTU - b.DroppedMTU,
		DroppedDown: a.DroppedDown - b.DroppedDown, DroppedScript: a.DroppedScript - b.DroppedScript,
		Duplicated: a.Duplicated - b.Duplicated, Corrupted: a.Corrupted - b.Corrupted,
		QueueBytes: a.QueueBytes, QueuePackets: a.QueuePackets, InFlight: a.InFlight,
	}
}

// pattern is an endless deterministic byte stream (xorshift64), so reordered,
// duplicated or shifted bytes change the digest.
type pattern struct{ s uint64 }

func newPattern() *pattern { return &pattern{s: 0x9e3779b97f4a7c15} }

// Read fills b with the next bytes of the stream; it never fails.
func (p *pattern) Read(b []byte) (int, error) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		p.s ^= p.s << 13
		p.s ^= p.s >> 7
		p.s ^= p.s << 17
		v := p.s
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for ; i < len(b); i++ {
		b[i] = byte(i)
	}
	return len(b), nil
}
