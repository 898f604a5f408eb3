// Package rtcp owns skiff's RTCP logic for media mode: RFC 3550 receiver
// statistics per source (extended highest sequence number, cumulative and
// fraction lost, interarrival jitter per RFC 3550 A.8, LSR/DLSR and the round
// trip computed from them), sender and receiver report building, generic NACK
// (RFC 4585 §6.2.1) building and parsing, PLI, the RFC 3550 §6.3/A.7 report
// transmission interval, and a bounded, validating Decode wrapper around
// github.com/pion/rtcp, which owns the wire format.
//
// Everything here is pure: no I/O, no goroutines, no clock reads; functions
// and state machines take `now` (and a seeded *rand.Rand where randomness is
// needed). The media session in package rtp owns the goroutine and the clock.
//
// Imports: the standard library and github.com/pion/rtcp only. It must not
// import any other skiff package (rtp imports it, not the other way round).
package rtcp
