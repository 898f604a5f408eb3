//go:build !linux

package netns

import "errors"

// ErrUnsupported is returned on systems other than Linux.
var ErrUnsupported = errors.New("netns: network namespaces need Linux")

// Available reports that network namespaces are unsupported here.
func Available() error { return ErrUnsupported }
