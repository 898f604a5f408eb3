package main

import (
	"flag"
	"strings"

	"github.com/skiffnet/skiff"
	"github.com/skiffnet/skiff/bench"
	"github.com/skiffnet/skiff/fec"
)

// sessionFlags are the session options shared by send, recv, ping and pong.
type sessionFlags struct {
	recovery string
	cc       string
	mtu      int
	maxDgram int
}

func (f *sessionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.recovery, "recovery", "rto", "loss recovery: rto, nack, fec-rs or fec-xor")
	fs.StringVar(&f.cc, "cc", "bbr", "congestion control: bbr, cubic, reno or none")
	fs.IntVar(&f.mtu, "mtu", 0, "datagram size a session starts with, in bytes (0 = skiff's default, 1200)")
	fs.IntVar(&f.maxDgram, "max-datagram", 0, "largest datagram path-MTU discovery may raise the size to (0 = skiff's default, 1452; equal to -mtu turns discovery off)")
}

// config builds the session configuration, rejecting unknown names.
func (f *sessionFlags) config() (*skiff.Config, error) {
	cfg := &skiff.Config{MTU: f.mtu, MaxDatagramSize: f.maxDgram}
	switch strings.ToLower(f.recovery) {
	case "rto":
		cfg.Recovery = skiff.RecoveryRTO
	case "nack":
		cfg.Recovery = skiff.RecoveryNACK
	case "fec", "fec-rs":
		bench.RegisterFEC()
		cfg.Recovery = skiff.RecoveryFEC
		cfg.FEC = fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeReedSolomon}}
	case "fec-xor":
		bench.RegisterFEC()
		cfg.Recovery = skiff.RecoveryFEC
		cfg.FEC = fec.StrategyConfig{Encoder: fec.EncoderConfig{Scheme: fec.SchemeXOR}}
	default:
		return nil, usageErr("-recovery %q: want rto, nack, fec-rs or fec-xor", f.recovery)
	}
	switch cc := strings.ToLower(f.cc); cc {
	case "bbr", "cubic", "reno", "none":
		cfg.Congestion = cc
	default:
		return nil, usageErr("-cc %q: want bbr, cubic, reno or none", f.cc)
	}
	if f.mtu != 0 && (f.mtu < skiff.MinMTU || f.mtu > skiff.MaxMTU) {
		return nil, usageErr("-mtu %d: want %d..%d", f.mtu, skiff.MinMTU, skiff.MaxMTU)
	}
	if f.maxDgram != 0 && (f.maxDgram < max(f.mtu, skiff.DefaultMTU) || f.maxDgram > skiff.MaxMTU) {
		return nil, usageErr("-max-datagram %d: want %d..%d (at least -mtu)", f.maxDgram, max(f.mtu, skiff.DefaultMTU), skiff.MaxMTU)
	}
	if f.maxDgram != 0 && f.maxDgram == max(f.mtu, skiff.DefaultMTU) {
		cfg.DisablePathMTUDiscovery = true
	}
	return cfg, nil
}
