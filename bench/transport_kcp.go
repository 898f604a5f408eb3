package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
)

// kcpMode is one configuration of kcp-go in the comparison.
type kcpMode int

const (
	// kcpDefault: kcp-go as it comes (NoDelay(0,40,0,0), windows 32/32)
	// apart from stream mode.
	kcpDefault kcpMode = iota
	// kcpTurbo: NoDelay(1,10,2,1) (no-delay RTO, 10 ms interval, fast
	// resend after 2 duplicate acks, no congestion control) and 1024-packet
	// windows, as kcptun's "fast3".
	kcpTurbo
	// kcpFEC: turbo plus kcp-go's Reed-Solomon FEC with 10 data and 3 parity
	// shards.
	kcpFEC
)

// kcpTransport runs kcp-go v5 over the emulated link's packet conns. All
// variants use stream mode (SetStreamMode(true)), as kcptun does, and no
// encryption.
type kcpTransport struct{ mode kcpMode }

func newKCPTransport(m kcpMode) *kcpTransport { return &kcpTransport{mode: m} }

func (t *kcpTransport) Name() string {
	switch t.mode {
	case kcpTurbo:
		return "kcp-turbo"
	case kcpFEC:
		return "kcp-fec"
	default:
		return "kcp-default"
	}
}

func (t *kcpTransport) Description() string {
	switch t.mode {
	case kcpTurbo:
		return "kcp-go v5, NoDelay(1,10,2,1), windows 1024/1024, stream mode"
	case kcpFEC:
		return "kcp-go v5, turbo settings + FEC 10 data + 3 parity shards"
	default:
		return "kcp-go v5, default settings (NoDelay(0,40,0,0)), stream mode"
	}
}

func (t *kcpTransport) Available() error { return nil }

func (t *kcpTransport) shards() (int, int) {
	if t.mode == kcpFEC {
		return 10, 3
	}
	return 0, 0
}

func (t *kcpTransport) configure(s *kcp.UDPSession) {
	s.SetStreamMode(true)
	if t.mode == kcpTurbo || t.mode == kcpFEC {
		s.SetNoDelay(1, 10, 2, 1)
		s.SetWindowSize(1024, 1024)
	}
}

func (t *kcpTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	ml, err := newMemLink(spec)
	if err != nil {
		return nil, err
	}
	ds, ps := t.shards()
	ln, err := kcp.ServeConn(nil, ds, ps, ml.server)
	if err != nil {
		ml.Close()
		return nil, fmt.Errorf("bench: kcp listen: %w", err)
	}
	cli, err := kcp.NewConn3(uint32(spec.Seed)|1, ml.server.LocalAddr(), nil, ds, ps, ml.client)
	if err != nil {
		ln.Close()
		ml.Close()
		return nil, fmt.Errorf("bench: kcp dial: %w", err)
	}
	t.configure(cli)

	var srv *kcp.UDPSession
	closeAll := func() error {
		errs := []error{cli.Close()}
		if srv != nil {
			errs = append(errs, srv.Close())
		}
		errs = append(errs, ln.Close(), ml.Close())
		return errors.Join(errs...)
	}
	// kcp has no handshake: the listener accepts a session when its first
	// packet arrives, so the client says hello and the server reads it.
	if _, err := cli.Write([]byte{'H'}); err != nil {
		closeAll()
		return nil, fmt.Errorf("bench: kcp hello: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = ln.SetDeadline(deadline)
	srv, err = ln.AcceptKCP()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("bench: kcp accept: %w", err)
	}
	t.configure(srv)
	_ = srv.SetReadDeadline(deadline)
	var hello [1]byte
	if _, err := io.ReadFull(srv, hello[:]); err != nil {
		closeAll()
		return nil, fmt.Errorf("bench: kcp hello not received: %w", err)
	}
	_ = srv.SetReadDeadline(time.Time{})

	return &Pair{
		Client:         newStreamEndpoint(cli),
		Server:         newStreamEndpoint(srv),
		Link:           ml,
		PacketOverhead: udpIPHeader,
		Close:          onceErr(closeAll),
	}, nil
}
