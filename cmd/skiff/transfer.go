package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// The transfer protocol, on one skiff session. Control travels as
// ReliableOrdered messages, file bytes on the session's stream:
//
//	client → server  hello:  "SKF1" 'F' | name length u16 | name | size u64 | SHA-256 of the file
//	server → client  offer:  "SKF1" 'O' | offset u64 | SHA-256 of the first offset bytes it holds
//	client → server  start:  "SKF1" 'S' | offset u64 (the offer's, or 0 if the prefix differs)
//	client → server  stream: the file from offset to its end
//	server → client  result: "SKF1" 'R' | status u8 (0 ok) | message
//
// A ping session opens with "SKF1" 'P'; the server then echoes every
// message back, unchanged.
const (
	protoMagic = "SKF1"

	kindFile   = 'F'
	kindOffer  = 'O'
	kindStart  = 'S'
	kindResult = 'R'
	kindPing   = 'P'

	maxNameLen = 255
)

var errProtocol = errors.New("protocol error")

type hello struct {
	name string
	size uint64
	sum  [sha256.Size]byte
}

func (h *hello) marshal() []byte {
	b := append([]byte(protoMagic), kindFile)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.name)))
	b = append(b, h.name...)
	b = binary.BigEndian.AppendUint64(b, h.size)
	return append(b, h.sum[:]...)
}

// msgKind checks the magic and returns the message kind and body.
func msgKind(b []byte) (byte, []byte, error) {
	if len(b) < len(protoMagic)+1 || string(b[:len(protoMagic)]) != protoMagic {
		return 0, nil, fmt.Errorf("%w: not a skiff transfer message (%d bytes)", errProtocol, len(b))
	}
	return b[len(protoMagic)], b[len(protoMagic)+1:], nil
}

func (h *hello) unmarshal(body []byte) error {
	if len(body) < 2 {
		return fmt.Errorf("%w: hello of %d bytes", errProtocol, len(body))
	}
	n := int(binary.BigEndian.Uint16(body))
	if n == 0 || n > maxNameLen || len(body) != 2+n+8+sha256.Size {
		return fmt.Errorf("%w: hello with name length %d in %d bytes", errProtocol, n, len(body))
	}
	h.name = string(body[2 : 2+n])
	h.size = binary.BigEndian.Uint64(body[2+n:])
	copy(h.sum[:], body[2+n+8:])
	return nil
}

type offer struct {
	offset uint64
	prefix [sha256.Size]byte
}

func (o *offer) marshal() []byte {
	b := append([]byte(protoMagic), kindOffer)
	b = binary.BigEndian.AppendUint64(b, o.offset)
	return append(b, o.prefix[:]...)
}

func (o *offer) unmarshal(body []byte) error {
	if len(body) != 8+sha256.Size {
		return fmt.Errorf("%w: offer of %d bytes", errProtocol, len(body))
	}
	o.offset = binary.BigEndian.Uint64(body)
	copy(o.prefix[:], body[8:])
	return nil
}

func marshalStart(offset uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(protoMagic), kindStart), offset)
}

func unmarshalStart(body []byte) (uint64, error) {
	if len(body) != 8 {
		return 0, fmt.Errorf("%w: start of %d bytes", errProtocol, len(body))
	}
	return binary.BigEndian.Uint64(body), nil
}

func marshalResult(ok bool, msg string) []byte {
	status := byte(1)
	if ok {
		status = 0
	}
	return append(append([]byte(protoMagic), kindResult, status), msg...)
}

func unmarshalResult(body []byte) (bool, string, error) {
	if len(body) < 1 {
		return false, "", fmt.Errorf("%w: empty result", errProtocol)
	}
	return body[0] == 0, string(body[1:]), nil
}

// safeName accepts a plain file name: no directories, not "." or "..",
// no NUL, at most maxNameLen bytes.
func safeName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("file name %q is not allowed", name)
	case len(name) > maxNameLen:
		return fmt.Errorf("file name of %d bytes is longer than %d", len(name), maxNameLen)
	case strings.ContainsAny(name, "/\\\x00") || filepath.Base(name) != name:
		return fmt.Errorf("file name %q must not contain a directory", name)
	}
	return nil
}
