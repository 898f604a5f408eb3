package fec_test

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/fec"
)

// Three packets of different lengths go through a Reed-Solomon encoder;
// the second is lost on the way, and the decoder rebuilds it from the
// first repair packet as soon as that arrives.
func Example() {
	now := time.Unix(0, 0)
	enc, _ := fec.NewEncoder(fec.EncoderConfig{K: 3, M: 2})
	dec, _ := fec.NewDecoder(fec.DecoderConfig{})

	type wire struct {
		tag fec.SourceTag
		pkt []byte
	}
	var sent []wire
	for _, p := range []string{"alpha", "bravo charlie", "delta"} {
		tag, _ := enc.AddSource(now, []byte(p))
		sent = append(sent, wire{tag, []byte(p)})
	}
	for i, w := range sent {
		if i == 1 {
			continue // lost
		}
		dec.AddSource(now, w.tag, w.pkt)
	}
	for {
		repair, ok := enc.AppendNextRepair(nil)
		if !ok {
			break
		}
		rec, _ := dec.AddRepairPacket(now, repair)
		for _, r := range rec {
			fmt.Printf("rebuilt group %d index %d: %q\n", r.Tag.GroupID, r.Tag.Index, r.Packet)
		}
	}
	fmt.Println("recovered:", dec.Stats().Recovered)
	// Output:
	// rebuilt group 0 index 1: "bravo charlie"
	// recovered: 1
}
