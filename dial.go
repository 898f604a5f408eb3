package skiff

import (
	"context"
	"fmt"
	"net"
)

// DialAddr opens a UDP socket and establishes a session with the listener
// at addr ("host:port"). The socket is closed when the session ends.
func DialAddr(ctx context.Context, addr string, cfg *Config) (*Session, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	network := "udp4"
	if raddr.IP.To4() == nil && raddr.IP != nil {
		network = "udp6"
	}
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, err
	}
	return dial(ctx, pc, raddr, true, c)
}

// Dial establishes a session with the listener at raddr over pc (any
// net.PacketConn, e.g. a netem connection). It returns once the handshake
// completed. pc must not be read by anyone else while the session lives;
// it is not closed when the session ends (its read deadline is used to stop
// the reader and reset afterwards).
func Dial(ctx context.Context, pc net.PacketConn, raddr net.Addr, cfg *Config) (*Session, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return dial(ctx, pc, raddr, false, c)
}

func dial(ctx context.Context, pc net.PacketConn, raddr net.Addr, owns bool, cfg Config) (*Session, error) {
	ap, ok := toAddrPort(raddr)
	if !ok {
		if owns {
			pc.Close()
		}
		return nil, fmt.Errorf("skiff: dial: remote address %v is not a UDP address", raddr)
	}
	id, err := randomConnID()
	if err != nil {
		if owns {
			pc.Close()
		}
		return nil, err
	}
	tr := newTransportNoStart(pc, owns, cfg.maxDatagram())
	s, err := newSession(tr, &cfg, id, ap, true)
	if err != nil {
		if owns {
			pc.Close()
		}
		return nil, err
	}
	tr.register(s)
	go tr.read()
	s.start()
	select {
	case <-s.established:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("skiff: dial %v: %w", raddr, s.Err())
	case <-ctx.Done():
		s.abortLocal(ctx.Err())
		<-s.done
		return nil, fmt.Errorf("skiff: dial %v: %w", raddr, ctx.Err())
	}
}
