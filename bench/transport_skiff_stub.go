//go:build skiffstub

package bench

import (
	"context"
	"fmt"
	"strings"
)

// skiffTransport is a placeholder until the skiff session package builds.
type skiffTransport struct{ name string }

func newSkiffTransport(name string) *skiffTransport { return &skiffTransport{name: name} }

func (t *skiffTransport) Name() string { return t.name }
func (t *skiffTransport) Description() string {
	return "skiff session, recovery " + strings.TrimPrefix(t.name, "skiff-")
}
func (t *skiffTransport) Available() error {
	return fmt.Errorf("%w: skiff sessions are not built yet", ErrUnavailable)
}
func (t *skiffTransport) Open(ctx context.Context, spec LinkSpec) (*Pair, error) {
	return nil, t.Available()
}
