package netem_test

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/netem"
)

// Two hosts on an in-memory network, joined by an asymmetric link.
func ExampleNetwork() {
	nw := netem.NewNetwork(1) // the seed makes every random choice reproducible
	defer nw.Close()
	burst, _ := netem.GilbertElliottFromLoss(0.02, 3) // 2% loss in bursts of 3
	_, err := nw.Link("10.0.0.1", "10.0.0.2",
		netem.Profile{Delay: 20 * time.Millisecond, Bandwidth: 10_000_000, QueueBytes: 64 << 10},
		netem.Profile{Delay: 20 * time.Millisecond, Burst: &burst})
	if err != nil {
		panic(err)
	}
	client, _ := nw.ListenPacket("10.0.0.1:0")
	server, _ := nw.ListenPacket("10.0.0.2:443")

	client.WriteTo([]byte("hello"), server.LocalAddr())
	buf := make([]byte, 1500)
	n, from, _ := server.ReadFrom(buf)
	fmt.Printf("%s from %v\n", buf[:n], from)
	// Output: hello from 10.0.0.1:49152
}

// A Pipe is one impaired direction; scripted drops target one mechanism.
func ExamplePipe() {
	got := make(chan string, 10)
	p, _ := netem.NewPipe(netem.Profile{Delay: time.Millisecond}, 1, func(pkt []byte) { got <- string(pkt) })
	defer p.Close()
	p.DropNth(2, func(pkt []byte) bool { return pkt[0] == 'd' }) // the 2nd data packet
	for _, s := range []string{"d1", "ack", "d2", "d3"} {
		p.Send([]byte(s))
	}
	fmt.Println(<-got, <-got, <-got, p.Stats().DroppedScript)
	// Output: d1 ack d3 1
}
