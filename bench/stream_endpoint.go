package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// maxFramedMessage bounds one message on a stream endpoint.
const maxFramedMessage = 64 << 10

// streamEndpoint adapts a reliable byte stream (kcp-go, TCP) to Endpoint:
// messages travel as a 2-byte big-endian length followed by the bytes, one
// Write per message so that a message is handed to the transport at once.
type streamEndpoint struct {
	conn net.Conn
	wmu  sync.Mutex
	hdr  [2]byte
	wbuf []byte
}

var _ Endpoint = (*streamEndpoint)(nil)

func newStreamEndpoint(c net.Conn) *streamEndpoint { return &streamEndpoint{conn: c} }

func (e *streamEndpoint) Read(p []byte) (int, error)  { return e.conn.Read(p) }
func (e *streamEndpoint) Write(p []byte) (int, error) { return e.conn.Write(p) }

func (e *streamEndpoint) SendMessage(p []byte) error {
	if len(p) > maxFramedMessage-1 {
		return fmt.Errorf("bench: message of %d bytes exceeds the framing limit %d", len(p), maxFramedMessage-1)
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.wbuf = binary.BigEndian.AppendUint16(e.wbuf[:0], uint16(len(p)))
	e.wbuf = append(e.wbuf, p...)
	_, err := e.conn.Write(e.wbuf)
	return err
}

func (e *streamEndpoint) ReceiveMessage(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = e.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.ReadFull(e.conn, e.hdr[:]); err != nil {
		return nil, e.ctxErr(ctx, err)
	}
	msg := make([]byte, binary.BigEndian.Uint16(e.hdr[:]))
	if _, err := io.ReadFull(e.conn, msg); err != nil {
		return nil, e.ctxErr(ctx, err)
	}
	return msg, nil
}

func (e *streamEndpoint) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
