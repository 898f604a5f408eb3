package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// udpFloorTransport sends each realtime message as one bare UDP datagram
// over the same link: no recovery, no congestion control. Its latency is the
// floor set by the link and by this machine's scheduling, the reference the
// other rows are read against; its lost messages are the link's losses. It
// has no bulk cells (an unreliable transport cannot deliver a file).
type udpFloorTransport struct{}

func newUDPFloorTransport() *udpFloorTransport { return &udpFloorTransport{} }

func (t *udpFloorTransport) Name() string { return "udp-floor" }

func (t *udpFloorTransport) Description() string {
	return "bare UDP datagrams, no recovery: the latency floor of link + machine (realtime only)"
}

func (t *udpFloorTransport) Available() error { return nil }

func (t *udpFloorTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	if spec.Workload != WorkloadRealtime {
		return nil, fmt.Errorf("%w: bare UDP carries only the realtime workload", ErrUnavailable)
	}
	ml, err := newMemLink(spec)
	if err != nil {
		return nil, err
	}
	return &Pair{
		Client:         &datagramEndpoint{pc: ml.client, peer: ml.server.LocalAddr()},
		Server:         &datagramEndpoint{pc: ml.server, peer: ml.client.LocalAddr()},
		Link:           ml,
		PacketOverhead: udpIPHeader,
		Close:          onceErr(ml.Close),
	}, nil
}

// datagramEndpoint sends each message as one datagram to peer.
type datagramEndpoint struct {
	pc   net.PacketConn
	peer net.Addr
}

var errNoStream = errors.New("bench: bare UDP has no byte stream")

func (e *datagramEndpoint) Read([]byte) (int, error)  { return 0, errNoStream }
func (e *datagramEndpoint) Write([]byte) (int, error) { return 0, errNoStream }

func (e *datagramEndpoint) SendMessage(p []byte) error {
	_, err := e.pc.WriteTo(p, e.peer)
	return err
}

func (e *datagramEndpoint) ReceiveMessage(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = e.pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 2048)
	n, _, err := e.pc.ReadFrom(buf)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return buf[:n], nil
}
