// Package netem is skiff's network impairment emulator: a per-direction link
// model (delay, jitter, Bernoulli and Gilbert-Elliott loss, duplication,
// corruption, a bottleneck with a drop-tail queue, MTU, trace-driven delivery,
// slotting, scripted drops) and three ways to attach it:
//
//   - [Network]: an in-memory network handing out net.PacketConns ([Conn]) with
//     their own addresses and no sockets; it runs inside testing/synctest
//     bubbles, so whole transfers can be simulated in fake time.
//   - [Wrap]: impairs what any existing net.PacketConn writes.
//   - [NewProxy]: a UDP proxy between real (loopback) addresses, for programs
//     we do not control.
//
// The core is [Pipe], one impaired direction. Packets are scheduled by a timer
// heap served by one goroutine and one time.Timer per pipe (never a goroutine
// or a sleep per packet), and every random choice comes from a seeded PCG
// source, so the same seed and the same input give the same result.
//
// Timing precision in real time: when the whole process is idle the Go
// runtime sleeps in epoll_wait, whose timeout is in milliseconds, so a
// time.Timer fires up to about 1 ms late and a 10 ms link delays 10.6-10.7
// ms on average. [Pipe.SetPreciseTimer] and [Network.SetPreciseTimers]
// (always on for [NewProxy]) switch to a Linux timerfd waited for in the
// runtime's poller: the same link then delays 10.2 ms, most of the rest
// being the receiving goroutine's wake-up. They are for real time only; in
// a synctest bubble keep the default, which follows the fake clock.
//
// Packet path through a Pipe, in order: Down, MTU, scripted drops
// ([Pipe.DropNth]), Gilbert-Elliott loss, Bernoulli loss, corruption,
// duplication, then each copy enters the bottleneck (bandwidth or trace, with
// its drop-tail queue), then propagation delay plus jitter, the reorder rule
// and slotting decide the release time.
//
// Trace-driven bandwidth: [Profile.Trace] holds mahimahi-style delivery
// opportunities (see [ParseMahimahi]); each opportunity lets
// [Trace.BytesPerOpportunity] bytes leave the queue, and the list repeats.
// Slotting: [Profile.Slot] holds released packets back to the next multiple of
// the slot interval, so they arrive in bursts as on Wi-Fi or LTE.
//
// Packet capture: [Pipe.SetCapture] writes what a pipe delivers as a pcap file
// (LINKTYPE_RAW); in-memory datagrams get a synthesised IPv4/IPv6+UDP header.
//
// netem imports only the standard library, golang.org/x/sys (through
// skiff's internal/hrtimer) and skiff's internal/deadline; it owns emulation only and must know nothing of any
// protocol it carries.
package netem
