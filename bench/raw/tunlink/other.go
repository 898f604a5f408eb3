//go:build !linux

package tunlink

import "errors"

// ErrUnsupported is returned on systems other than Linux.
var ErrUnsupported = errors.New("tunlink: TUN links need Linux")
