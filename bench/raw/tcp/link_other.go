//go:build !linux

package tcp

import "errors"

// NewTUNLink is only available on Linux.
func NewTUNLink(fd int, mtu int) (Link, error) {
	return nil, errors.New("tcp: TUN links are only supported on Linux")
}
