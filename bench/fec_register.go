package bench

import (
	"sync"

	"github.com/skiffnet/skiff"
	"github.com/skiffnet/skiff/fec"
	"github.com/skiffnet/skiff/rudp"
)

var registerFEC sync.Once

// RegisterFEC installs the fec package's strategy as skiff's RecoveryFEC
// (skiff.RegisterFEC: the fec package may not import the session package,
// so a program wires them together). Safe to call more than once; the bench
// and the CLI call it before opening FEC sessions.
func RegisterFEC() {
	registerFEC.Do(func() {
		skiff.RegisterFEC(func(env rudp.Env, cfg *skiff.Config) (rudp.Strategy, error) {
			return fec.NewSessionStrategy(env, cfg.FEC, cfg.MTU, cfg.NackRetries, rudp.DefaultMaxAckDelay)
		})
	})
}
