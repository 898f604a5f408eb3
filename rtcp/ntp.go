package rtcp

import "time"

// ntpEpochOffset is the number of seconds between 1900-01-01 (NTP epoch) and
// 1970-01-01 (Unix epoch).
const ntpEpochOffset = 2208988800

// NTPTime converts t to a 64-bit NTP timestamp (RFC 3550 §4): seconds since
// 1900 in the high 32 bits, the binary fraction in the low 32.
func NTPTime(t time.Time) uint64 {
	ns := t.UnixNano()
	secs := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return secs<<32 | frac
}

// NTPMiddle returns the middle 32 bits of an NTP timestamp, the compact form
// used in LSR (RFC 3550 §6.4.1).
func NTPMiddle(ntp uint64) uint32 { return uint32(ntp >> 16) }

// compactToDuration converts a 16.16 fixed-point second count (DLSR, or an
// LSR difference) to a Duration.
func compactToDuration(v uint32) time.Duration {
	return time.Duration(uint64(v) * uint64(time.Second) >> 16)
}

// durationToCompact converts d (≥ 0) to 16.16 fixed-point seconds, saturating.
func durationToCompact(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	v := uint64(d) << 16 / uint64(time.Second)
	if v > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(v)
}
