package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/netem"
)

// ErrUnavailable marks a transport that cannot run here (a package that is
// not built yet, or kernel TCP without root). Cells of such a transport are
// reported as "not available", never as failures.
var ErrUnavailable = errors.New("not available")

// Transport opens a connected pair of endpoints across an emulated link.
// Implementations are stateless values, safe for concurrent use; every Open
// builds its own link and connections.
type Transport interface {
	// Name is the short name used in tables and flags ("skiff-rto").
	Name() string
	// Description says what is compared (settings, label such as
	// "user-space TCP, reno").
	Description() string
	// Available returns nil if the transport can run here, else an error
	// wrapping ErrUnavailable that says why.
	Available() error
	// Open builds the emulated link described by spec and returns a
	// connected pair over it. The client sends the workload's data.
	Open(ctx context.Context, spec LinkSpec) (*Pair, error)
}

// LinkSpec is what a transport needs to build the link of one cell.
type LinkSpec struct {
	// Profile is applied to both directions.
	Profile netem.Profile
	// Seed makes the link's random choices reproducible.
	Seed int64
	// Tracer, when not nil, receives the sender's congestion-control events
	// (skiff transports only).
	Tracer congestion.Tracer
	// Workload is the workload the pair will carry (WorkloadBulk or
	// WorkloadRealtime), for transports that support only one.
	Workload string
}

// Link is the emulated link under a pair: the runner reads its statistics
// and changes its profile on schedule.
type Link interface {
	// SetProfile changes both directions.
	SetProfile(p netem.Profile) error
	// DataStats are the statistics of the client→server (data) direction.
	DataStats() netem.Stats
	// ReturnStats are the statistics of the server→client direction.
	ReturnStats() netem.Stats
}

// Endpoint is one end of a pair: a reliable byte stream for bulk transfer
// and a message interface for the realtime workload. Safe for one reader and
// one writer at a time.
type Endpoint interface {
	io.Reader
	io.Writer
	// SendMessage sends one message (boundaries kept).
	SendMessage(p []byte) error
	// ReceiveMessage returns the next message; it returns ctx.Err() when
	// ctx ends first.
	ReceiveMessage(ctx context.Context) ([]byte, error)
}

// Pair is a connected client and server over one link.
type Pair struct {
	// Client sends the workload's data; Server receives it.
	Client, Server Endpoint
	// Link is the emulated link between them.
	Link Link
	// PacketOverhead is added to every packet counted by Link to get IP-level
	// wire bytes (28 for IPv4+UDP on datagram links, 0 for IP links).
	PacketOverhead int
	// Close releases everything Open created; it unblocks pending reads and
	// writes. Safe to call more than once.
	Close func() error
}

// Transports returns the default transports of the comparison, in table
// order: skiff's four strategies, TCP — kernel TCP with bbr, cubic and reno
// through the TUN link when this process may create network namespaces
// (root on Linux), else the user-space TCP, labelled as such — kcp-go in
// three configurations, skiff's media mode (video only) and bare UDP as the
// latency floor (realtime only).
func Transports() []Transport {
	out := skiffTransports()
	kernel := kernelTCPTransports()
	if len(kernel) > 0 && kernel[0].Available() == nil {
		out = append(out, kernel...)
	} else {
		out = append(out, newUserTCPTransport())
	}
	out = append(out, kcpTransports()...)
	return append(out, newRTPMediaTransport(), newUDPFloorTransport())
}

// AllTransports returns every transport that can be selected by name,
// available here or not.
func AllTransports() []Transport {
	out := skiffTransports()
	out = append(out, skiffCongestionTransports()...)
	out = append(out, kernelTCPTransports()...)
	out = append(out, newUserTCPTransport())
	out = append(out, kcpTransports()...)
	return append(out, newRTPMediaTransport(), newUDPFloorTransport())
}

func skiffTransports() []Transport {
	return []Transport{
		newSkiffTransport("skiff-rto"),
		newSkiffTransport("skiff-nack"),
		newSkiffTransport("skiff-fec-rs"),
		newSkiffTransport("skiff-fec-xor"),
	}
}

// skiffCongestionTransports are timed-RTO skiff sessions with the other
// congestion controllers; not in the default set, selected by name or "all".
func skiffCongestionTransports() []Transport {
	return []Transport{newSkiffTransport("skiff-reno"), newSkiffTransport("skiff-cubic"), newSkiffTransport("skiff-nocc")}
}

func kcpTransports() []Transport {
	return []Transport{newKCPTransport(kcpDefault), newKCPTransport(kcpTurbo), newKCPTransport(kcpFEC)}
}

// SelectTransports returns the transports named in a comma-separated list
// ("skiff-rto,kcp-turbo"; "" or "default" for the default set, "all" for
// every known transport; "skiff", "kcp" and "tcp" select a family's members
// in the default set: for "tcp" the default TCP of this machine).
func SelectTransports(list string) ([]Transport, error) {
	names := splitList(list)
	if len(names) == 0 || (len(names) == 1 && names[0] == "default") {
		return Transports(), nil
	}
	all := AllTransports()
	if len(names) == 1 && names[0] == "all" {
		return all, nil
	}
	inDefault := map[string]bool{}
	for _, t := range Transports() {
		inDefault[t.Name()] = true
	}
	var out []Transport
	seen := map[string]bool{}
	for _, n := range names {
		found := false
		for _, t := range all {
			exact := t.Name() == n
			if exact || (strings.HasPrefix(t.Name(), n+"-") && inDefault[t.Name()]) {
				if !seen[t.Name()] {
					out = append(out, t)
					seen[t.Name()] = true
				}
				found = true
			}
		}
		if !found {
			var have []string
			for _, t := range all {
				have = append(have, t.Name())
			}
			return nil, fmt.Errorf("bench: unknown transport %q (have %s)", n, strings.Join(have, ", "))
		}
	}
	return out, nil
}
