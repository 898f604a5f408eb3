package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/skiffnet/skiff"
	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/netem"
)

// skiffTransport runs a skiff session over the emulated link's packet conns
// with one recovery strategy and one congestion controller (BBR, the
// default, unless the name says otherwise: skiff-reno, skiff-cubic and
// skiff-nocc are timed RTO with NewReno, CUBIC or no congestion control,
// for comparing controllers on the same links). Messages
// of the realtime workload are sent ReliableUnordered: every message is
// recovered, none waits for an earlier one.
type skiffTransport struct {
	name     string
	recovery skiff.Recovery
	fec      string // "rs" or "xor" for RecoveryFEC
	cc       string // Config.Congestion; "" for the default (BBR)
}

func newSkiffTransport(name string) *skiffTransport {
	t := &skiffTransport{name: name}
	switch strings.TrimPrefix(name, "skiff-") {
	case "nack":
		t.recovery = skiff.RecoveryNACK
	case "fec-rs":
		t.recovery, t.fec = skiff.RecoveryFEC, "rs"
	case "fec-xor":
		t.recovery, t.fec = skiff.RecoveryFEC, "xor"
	case "reno", "cubic":
		t.recovery, t.cc = skiff.RecoveryRTO, strings.TrimPrefix(name, "skiff-")
	case "nocc":
		t.recovery, t.cc = skiff.RecoveryRTO, "none"
	default:
		t.recovery = skiff.RecoveryRTO
	}
	return t
}

func (t *skiffTransport) Name() string { return t.name }

func (t *skiffTransport) Description() string {
	switch t.cc {
	case "reno":
		return "skiff session, timed RTO recovery, NewReno congestion control (RFC 5681/6582)"
	case "cubic":
		return "skiff session, timed RTO recovery, CUBIC congestion control (RFC 9438)"
	case "none":
		return "skiff session, timed RTO recovery, no congestion control (fixed window = receive window; unfair)"
	}
	switch t.recovery {
	case skiff.RecoveryNACK:
		return "skiff session, receiver-driven NACK recovery, default congestion control"
	case skiff.RecoveryFEC:
		if t.fec == "xor" {
			return "skiff session, FEC (XOR, k+1) with ARQ fallback, default congestion control"
		}
		return "skiff session, FEC (Reed-Solomon, default k+m) with ARQ fallback, default congestion control"
	}
	return "skiff session, timed RTO recovery, default congestion control"
}

func (t *skiffTransport) config() (*skiff.Config, error) {
	cfg := &skiff.Config{Recovery: t.recovery, Congestion: t.cc}
	if t.recovery == skiff.RecoveryFEC {
		fc, err := skiffFECConfig(t.fec)
		if err != nil {
			return nil, err
		}
		cfg.FEC = fc
	}
	return cfg, nil
}

func (t *skiffTransport) Available() error {
	if t.recovery == skiff.RecoveryFEC {
		if _, err := skiffFECConfig(t.fec); err != nil {
			return err
		}
	}
	return nil
}

func (t *skiffTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	cfg, err := t.config()
	if err != nil {
		return nil, err
	}
	ml, err := newMemLink(spec)
	if err != nil {
		return nil, err
	}
	srvCfg := *cfg
	ln, err := skiff.Listen(ml.server, &srvCfg)
	if err != nil {
		ml.Close()
		return nil, fmt.Errorf("bench: skiff listen: %w", err)
	}
	type accepted struct {
		s   *skiff.Session
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		s, err := ln.AcceptSession(ctx)
		acc <- accepted{s, err}
	}()
	cliCfg := *cfg
	cliCfg.CongestionTracer = spec.Tracer
	cli, err := skiff.Dial(ctx, ml.client, ml.server.LocalAddr(), &cliCfg)
	if err != nil {
		ln.Close()
		<-acc
		ml.Close()
		return nil, fmt.Errorf("bench: skiff dial: %w", err)
	}
	a := <-acc
	if a.err != nil {
		cli.Abort()
		ln.Close()
		ml.Close()
		return nil, fmt.Errorf("bench: skiff accept: %w", a.err)
	}
	srv := a.s
	closeAll := func() error {
		return errors.Join(cli.Abort(), srv.Abort(), ln.Close(), ml.Close())
	}
	return &Pair{
		Client:         &skiffEndpoint{s: cli},
		Server:         &skiffEndpoint{s: srv},
		Link:           ml,
		PacketOverhead: udpIPHeader,
		Close:          onceErr(closeAll),
	}, nil
}

// skiffEndpoint is a skiff session as an Endpoint.
type skiffEndpoint struct{ s *skiff.Session }

func (e *skiffEndpoint) Read(p []byte) (int, error)  { return e.s.Read(p) }
func (e *skiffEndpoint) Write(p []byte) (int, error) { return e.s.Write(p) }
func (e *skiffEndpoint) SendMessage(p []byte) error {
	return e.s.SendMessage(p, skiff.ReliableUnordered)
}
func (e *skiffEndpoint) ReceiveMessage(ctx context.Context) ([]byte, error) {
	return e.s.ReceiveMessage(ctx)
}

// skiffFECConfig returns the Config.FEC value selecting the scheme (the fec
// package's defaults otherwise: RS 10+3 or XOR 10+1, 2 ms group delay bound,
// NACK fallback), or an ErrUnavailable error while no FEC strategy is
// registered with the session.
func skiffFECConfig(scheme string) (any, error) {
	fc := fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeReedSolomon}}
	if scheme == "xor" {
		fc.Encoder.Scheme = fec.SchemeXOR
	}
	RegisterFEC()
	fecProbe.Do(func() {
		nw := netem.NewNetwork(1)
		defer nw.Close()
		pc, err := nw.ListenPacket("10.0.0.9:1")
		if err != nil {
			fecProbeErr = err
			return
		}
		ln, err := skiff.Listen(pc, &skiff.Config{Recovery: skiff.RecoveryFEC, FEC: fc})
		if err != nil {
			fecProbeErr = err
			return
		}
		ln.Close()
	})
	if fecProbeErr != nil {
		return nil, fmt.Errorf("%w: skiff FEC: %v", ErrUnavailable, fecProbeErr)
	}
	return fc, nil
}

var (
	fecProbe    sync.Once
	fecProbeErr error
)
