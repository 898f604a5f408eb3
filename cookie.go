package skiff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"
)

// cookieSize is the size of a stateless handshake cookie: an 8-byte
// issue time (Unix milliseconds) and a 16-byte truncated HMAC-SHA256.
const cookieSize = 8 + 16

// cookieJar issues and checks stateless cookies (as SYN cookies and QUIC's
// Retry): an HMAC over the client's address, its connection ID and the
// issue time under a per-listener random key. The server keeps no state for
// a client until the client echoes a valid, fresh cookie, which proves it
// receives packets at its claimed address. Safe for concurrent use (it is
// immutable after creation).
type cookieJar struct {
	key      [32]byte
	lifetime time.Duration
}

func newCookieJar(lifetime time.Duration) (*cookieJar, error) {
	j := &cookieJar{lifetime: lifetime}
	if _, err := rand.Read(j.key[:]); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *cookieJar) mac(dst []byte, addr netip.AddrPort, connID uint64, issued uint64) []byte {
	m := hmac.New(sha256.New, j.key[:])
	var b [16 + 2 + 8 + 8]byte
	a16 := addr.Addr().As16()
	copy(b[:16], a16[:])
	binary.BigEndian.PutUint16(b[16:], addr.Port())
	binary.BigEndian.PutUint64(b[18:], connID)
	binary.BigEndian.PutUint64(b[26:], issued)
	m.Write(b[:])
	return m.Sum(dst)[:len(dst)+16]
}

// issue appends a cookie for the client to dst.
func (j *cookieJar) issue(dst []byte, now time.Time, addr netip.AddrPort, connID uint64) []byte {
	issued := uint64(now.UnixMilli())
	dst = binary.BigEndian.AppendUint64(dst, issued)
	return j.mac(dst, addr, connID, issued)
}

// valid reports whether cookie was issued by this jar for addr and connID
// within the lifetime.
func (j *cookieJar) valid(cookie []byte, now time.Time, addr netip.AddrPort, connID uint64) bool {
	if len(cookie) != cookieSize {
		return false
	}
	issued := binary.BigEndian.Uint64(cookie)
	age := now.UnixMilli() - int64(issued)
	if age < -1000 || time.Duration(age)*time.Millisecond > j.lifetime {
		return false
	}
	var buf [8 + 32]byte
	want := j.mac(buf[:8], addr, connID, issued)
	copy(want[:8], cookie[:8])
	return hmac.Equal(want, cookie)
}
