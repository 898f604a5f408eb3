package icmp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"time"
)

// PingConfig configures Ping. Zero fields take the defaults.
type PingConfig struct {
	Count    int           // echo requests to send; 0 = 10
	Interval time.Duration // between requests; 0 = 100ms
	Timeout  time.Duration // how long to wait for replies after the last request; 0 = 1s
	Size     int           // data bytes per request (at least 16 are used); 0 = 56
	ID       uint16        // identifier on raw sockets; 0 = process ID. Ping sockets use the kernel's.
}

// PingResult is what Ping measured. RTTs are in arrival order. Jitter is the
// mean absolute difference between consecutive RTTs (the RFC 3550 idea,
// unsmoothed); StdDev is ping's "mdev"-style spread.
type PingResult struct {
	Sent, Received int
	Duplicates     int // replies for a sequence already answered
	Corrupt        int // replies whose data differed from the request's
	RTTs           []time.Duration
	Min, Max, Mean time.Duration
	StdDev, Jitter time.Duration
}

// Loss returns the fraction of requests that got no reply.
func (r PingResult) Loss() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 1 - float64(r.Received)/float64(r.Sent)
}

// Ping sends cfg.Count echo requests to dst over conn and collects replies.
// conn carries bare ICMP messages: a raw socket (net.ListenPacket("ip4:icmp",
// ...), dst a *net.IPAddr) or a Linux ping socket (see PingSocket; dst a
// *net.UDPAddr), whose identifier is its local port. Ping owns conn's read
// deadline while it runs and clears it on return. It returns early, with what
// it has, when ctx ends.
func Ping(ctx context.Context, conn net.PacketConn, dst net.Addr, cfg PingConfig) (PingResult, error) {
	if cfg.Count <= 0 {
		cfg.Count = 10
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Size <= 0 {
		cfg.Size = 56
	}
	cfg.Size = max(cfg.Size, 16)
	id := cfg.ID
	if id == 0 {
		id = uint16(os.Getpid())
	}
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		id = uint16(ua.Port) // ping socket: the kernel puts its ident in every request
	}

	var (
		mu      sync.Mutex
		sentAt  = make([]time.Time, cfg.Count)
		gotSeq  = make([]bool, cfg.Count)
		res     PingResult
		allDone = make(chan struct{})
	)
	readerDone := make(chan error, 1)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFrom(buf)
			now := time.Now()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					readerDone <- nil
				} else {
					readerDone <- err
				}
				return
			}
			var e Echo
			if _, err := e.Unmarshal(buf[:n]); err != nil || e.Type != TypeEchoReply || e.ID != id {
				continue
			}
			mu.Lock()
			seq := int(e.Seq)
			if seq < cfg.Count && !sentAt[seq].IsZero() {
				switch {
				case gotSeq[seq]:
					res.Duplicates++
				case !checkPayload(e.Data, e.Seq, cfg.Size):
					res.Corrupt++
				default:
					gotSeq[seq] = true
					res.Received++
					res.RTTs = append(res.RTTs, now.Sub(sentAt[seq]))
					if res.Received == cfg.Count {
						close(allDone)
					}
				}
			}
			mu.Unlock()
		}
	}()

	var sendErr error
	msg := make([]byte, 0, HeaderLen+cfg.Size)
	data := make([]byte, cfg.Size)
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
send:
	for seq := 0; seq < cfg.Count; seq++ {
		if seq > 0 {
			select {
			case <-ctx.Done():
				break send
			case <-tick.C:
			}
		}
		fillPayload(data, uint16(seq))
		e := Echo{Type: TypeEcho, ID: id, Seq: uint16(seq), Data: data}
		msg = e.AppendTo(msg[:0])
		mu.Lock()
		sentAt[seq] = time.Now()
		res.Sent++
		mu.Unlock()
		if _, err := conn.WriteTo(msg, dst); err != nil {
			sendErr = fmt.Errorf("icmp: send echo %d to %v: %w", seq, dst, err)
			break
		}
	}
	if sendErr == nil {
		wait := time.NewTimer(cfg.Timeout)
		select {
		case <-allDone:
		case <-wait.C:
		case <-ctx.Done():
		}
		wait.Stop()
	}
	_ = conn.SetReadDeadline(time.Unix(1, 0))
	readErr := <-readerDone
	_ = conn.SetReadDeadline(time.Time{})
	mu.Lock()
	defer mu.Unlock()
	summarize(&res)
	if sendErr != nil {
		return res, sendErr
	}
	if readErr != nil {
		return res, fmt.Errorf("icmp: read replies: %w", readErr)
	}
	return res, nil
}

// fillPayload writes a recognisable pattern derived from seq.
func fillPayload(b []byte, seq uint16) {
	binary.BigEndian.PutUint64(b, 0x736b696666706e67) // "skiffpng"
	for i := 8; i < len(b); i++ {
		b[i] = byte(int(seq) + i)
	}
}

func checkPayload(b []byte, seq uint16, size int) bool {
	if len(b) != size || len(b) < 8 || binary.BigEndian.Uint64(b) != 0x736b696666706e67 {
		return false
	}
	for i := 8; i < len(b); i++ {
		if b[i] != byte(int(seq)+i) {
			return false
		}
	}
	return true
}

// summarize fills Min, Max, Mean, StdDev and Jitter from RTTs.
func summarize(r *PingResult) {
	if len(r.RTTs) == 0 {
		return
	}
	r.Min, r.Max = r.RTTs[0], r.RTTs[0]
	var sum, jit float64
	for i, d := range r.RTTs {
		r.Min, r.Max = min(r.Min, d), max(r.Max, d)
		sum += float64(d)
		if i > 0 {
			jit += math.Abs(float64(d - r.RTTs[i-1]))
		}
	}
	mean := sum / float64(len(r.RTTs))
	var v float64
	for _, d := range r.RTTs {
		v += (float64(d) - mean) * (float64(d) - mean)
	}
	r.Mean = time.Duration(mean)
	r.StdDev = time.Duration(math.Sqrt(v / float64(len(r.RTTs))))
	if len(r.RTTs) > 1 {
		r.Jitter = time.Duration(jit / float64(len(r.RTTs)-1))
	}
}
