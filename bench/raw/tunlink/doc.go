// Package tunlink joins two network namespaces with an emulated link: each
// namespace has a TUN device, and packets the kernel in one namespace sends
// into its TUN cross a netem.Pipe (one per direction) and are written into
// the other namespace's TUN. Any kernel socket between the two namespaces —
// kernel TCP with reno, cubic or bbr, a skiff session over UDP — therefore
// crosses the emulator. This is how kernel TCP gets impaired on machines
// without the netem qdisc.
//
// New sets everything up in one call and removes everything it made when it
// fails; Close tears it down. RunTCP (and the one-shot RunKernelTCP) measures
// a kernel TCP bulk transfer across the link with a chosen congestion control.
//
// Linux and root only (see netns.Available). The package imports netem,
// bench/raw/netns, the standard library and golang.org/x/sys; it must not
// import the skiff session packages.
package tunlink
