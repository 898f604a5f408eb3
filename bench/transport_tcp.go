package bench

import (
	"context"
	"fmt"
)

// tcpTransport is TCP on the same emulated link: kernel TCP through the TUN
// link (bench/raw/tunlink) when running as root, else the user-space TCP of
// bench/raw/tcp over the in-memory link, labelled as such.
type tcpTransport struct{}

func newTCPTransport() *tcpTransport { return &tcpTransport{} }

func (t *tcpTransport) Name() string { return "tcp" }

func (t *tcpTransport) Description() string {
	return "TCP on the same emulated link (kernel TCP via TUN with root, else user-space TCP)"
}

func (t *tcpTransport) Available() error {
	return fmt.Errorf("%w: bench/raw/tcp and bench/raw/tunlink are not wired in yet", ErrUnavailable)
}

func (t *tcpTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	return nil, t.Available()
}
