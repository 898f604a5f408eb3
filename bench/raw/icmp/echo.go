package icmp

import (
	"encoding/binary"
	"fmt"
)

// Echo is an echo request (TypeEcho) or reply (TypeEchoReply), RFC 792:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Identifier          |        Sequence Number        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Data ...
//	+-+-+-+-+-
//
// The zero value is an echo reply with ID 0, sequence 0 and no data. After
// Unmarshal, Data aliases the decoded buffer (no copy, no allocation). Not
// safe for concurrent mutation.
type Echo struct {
	Type uint8 // TypeEcho or TypeEchoReply
	Code uint8 // 0
	ID   uint16
	Seq  uint16
	Data []byte
}

// MarshalSize returns the encoded length.
func (e *Echo) MarshalSize() int { return HeaderLen + len(e.Data) }

// AppendTo appends the encoded message with its checksum to b.
func (e *Echo) AppendTo(b []byte) []byte {
	start := len(b)
	b = append(b, e.Type, e.Code, 0, 0)
	b = binary.BigEndian.AppendUint16(b, e.ID)
	b = binary.BigEndian.AppendUint16(b, e.Seq)
	b = append(b, e.Data...)
	return finish(b, start)
}

// Unmarshal decodes an echo request or reply that fills b, verifying the
// checksum, and returns len(b).
func (e *Echo) Unmarshal(b []byte) (int, error) {
	typ, code, err := TypeOf(b)
	if err != nil {
		return 0, err
	}
	if typ != TypeEcho && typ != TypeEchoReply {
		return 0, fmt.Errorf("%w: type %d code %d is not an echo message", ErrType, typ, code)
	}
	e.Type, e.Code = typ, code
	e.ID = binary.BigEndian.Uint16(b[4:])
	e.Seq = binary.BigEndian.Uint16(b[6:])
	e.Data = b[HeaderLen:]
	return len(b), nil
}
