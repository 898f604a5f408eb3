package bench

import (
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/netem"
)

// Addresses of the two hosts on an in-memory link.
const (
	clientHost = "10.0.0.1"
	serverHost = "10.0.0.2"
	serverPort = 4242
)

// udpIPHeader is the IPv4+UDP header size added to each datagram when
// counting wire bytes at the IP layer.
const udpIPHeader = 28

// memLink is an in-memory netem network with a client and a server host
// joined by one link with the same profile in both directions.
type memLink struct {
	nw     *netem.Network
	link   *netem.Link
	client *netem.Conn
	server *netem.Conn
}

var _ Link = (*memLink)(nil)

// newMemLink builds the network and opens one packet conn on each host.
func newMemLink(spec LinkSpec) (*memLink, error) {
	nw := netem.NewNetwork(spec.Seed)
	nw.SetPreciseTimers(true) // a 10 ms link delays 10.0 ms, not 10.6-10.7
	lk, err := nw.Link(clientHost, serverHost, spec.Profile, spec.Profile)
	if err != nil {
		nw.Close()
		return nil, fmt.Errorf("bench: link: %w", err)
	}
	srv, err := nw.ListenPacket(fmt.Sprintf("%s:%d", serverHost, serverPort))
	if err != nil {
		nw.Close()
		return nil, fmt.Errorf("bench: server conn: %w", err)
	}
	cli, err := nw.ListenPacket(clientHost + ":0")
	if err != nil {
		nw.Close()
		return nil, fmt.Errorf("bench: client conn: %w", err)
	}
	return &memLink{nw: nw, link: lk, client: cli, server: srv}, nil
}

func (m *memLink) SetProfile(p netem.Profile) error {
	return errors.Join(m.link.AToB().SetProfile(p), m.link.BToA().SetProfile(p))
}

func (m *memLink) DataStats() netem.Stats   { return m.link.AToB().Stats() }
func (m *memLink) ReturnStats() netem.Stats { return m.link.BToA().Stats() }

// Close stops the network and every conn on it.
func (m *memLink) Close() error { return m.nw.Close() }
