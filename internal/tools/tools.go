//go:build tools

// Package tools pins the modules that skiff's packages, tests, bench and CLI
// use, so that go.mod and go.sum stay complete while packages are written in
// parallel. It is never built.
package tools

import (
	_ "github.com/klauspost/reedsolomon"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/stretchr/testify/require"
	_ "github.com/xtaci/kcp-go/v5"
	_ "go.uber.org/goleak"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/net/nettest"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg"
)
