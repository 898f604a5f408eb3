//go:build !linux

package bench

// kernelTCPTransports is empty off Linux: the TUN link needs Linux.
func kernelTCPTransports() []Transport { return nil }

// releaseKernelLinks has nothing to release off Linux.
func releaseKernelLinks() error { return nil }
