package netem

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// Proxy is an impairing UDP proxy between real addresses, for programs we do
// not control: a client sends to Proxy.Addr, the proxy forwards through the
// toTarget pipe to the target, and the target's replies come back through
// the fromTarget pipe to the client. The client's address is learned from the
// first datagram; datagrams from other senders are forwarded too, but replies
// always go to the first. Safe for concurrent use; Close stops its
// goroutines and sockets.
type Proxy struct {
	listen   *net.UDPConn
	upstream *net.UDPConn // connected to the target
	target   netip.AddrPort

	mu     sync.Mutex
	client netip.AddrPort

	toTarget, fromTarget *Pipe
	wg                   sync.WaitGroup
	closeOnce            sync.Once
}

// NewProxy listens on listenAddr ("127.0.0.1:0" picks a port) and forwards to
// targetAddr. The two pipes draw from streams derived from seed.
func NewProxy(listenAddr, targetAddr string, toTarget, fromTarget Profile, seed int64) (*Proxy, error) {
	if err := toTarget.Validate(); err != nil {
		return nil, fmt.Errorf("toTarget: %w", err)
	}
	if err := fromTarget.Validate(); err != nil {
		return nil, fmt.Errorf("fromTarget: %w", err)
	}
	la, err := net.ResolveUDPAddr("udp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("netem: proxy listen address %q: %w", listenAddr, err)
	}
	ta, err := net.ResolveUDPAddr("udp", targetAddr)
	if err != nil {
		return nil, fmt.Errorf("netem: proxy target address %q: %w", targetAddr, err)
	}
	px := &Proxy{target: ta.AddrPort()}
	if px.listen, err = net.ListenUDP("udp", la); err != nil {
		return nil, fmt.Errorf("netem: proxy: %w", err)
	}
	if px.upstream, err = net.DialUDP("udp", nil, ta); err != nil {
		px.listen.Close()
		return nil, fmt.Errorf("netem: proxy: %w", err)
	}
	px.toTarget, _ = newPipe(toTarget, deriveSeed(seed, 0), func(pkt []byte, _ *meta) {
		px.upstream.Write(pkt)
	})
	px.fromTarget, _ = newPipe(fromTarget, deriveSeed(seed, 1), func(pkt []byte, md *meta) {
		px.listen.WriteToUDPAddrPort(pkt, md.dst)
	})
	// A proxy works in real time over sockets: time it precisely.
	px.toTarget.SetPreciseTimer(true)
	px.fromTarget.SetPreciseTimer(true)
	px.wg.Add(2)
	go px.readClient()
	go px.readTarget()
	return px, nil
}

func (px *Proxy) readClient() {
	defer px.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := px.listen.ReadFromUDPAddrPort(buf)
		if err != nil {
			if isClosedConnErr(err) {
				return
			}
			continue
		}
		px.mu.Lock()
		if !px.client.IsValid() {
			px.client = from
		}
		px.mu.Unlock()
		px.toTarget.send(buf[:n], meta{src: from, dst: px.target})
	}
}

func (px *Proxy) readTarget() {
	defer px.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := px.upstream.Read(buf)
		if err != nil {
			if isClosedConnErr(err) {
				return
			}
			continue // e.g. ECONNREFUSED while the target is not up yet
		}
		px.mu.Lock()
		client := px.client
		px.mu.Unlock()
		if client.IsValid() {
			px.fromTarget.send(buf[:n], meta{src: px.target, dst: client})
		}
	}
}

func isClosedConnErr(err error) bool { return errors.Is(err, net.ErrClosed) }

// Addr is the address clients send to.
func (px *Proxy) Addr() net.Addr { return px.listen.LocalAddr() }

// Client returns the learned client address (invalid before the first
// datagram).
func (px *Proxy) Client() netip.AddrPort {
	px.mu.Lock()
	defer px.mu.Unlock()
	return px.client
}

// ToTarget is the pipe from the client to the target.
func (px *Proxy) ToTarget() *Pipe { return px.toTarget }

// FromTarget is the pipe from the target back to the client.
func (px *Proxy) FromTarget() *Pipe { return px.fromTarget }

// Close closes both sockets and stops every goroutine. It is idempotent.
func (px *Proxy) Close() error {
	px.closeOnce.Do(func() {
		px.listen.Close()
		px.upstream.Close()
		px.wg.Wait()
		px.toTarget.Close()
		px.fromTarget.Close()
	})
	return nil
}
