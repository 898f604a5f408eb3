package netem

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func FuzzParseMahimahi(f *testing.F) {
	for _, s := range []string{"1\n2\n3\n", "# c\n\n5\n5\n10\n", "0\n", "x\n", "-1\n", "3\n1\n", "99999999999999999999\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseMahimahi(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("parsed trace does not validate: %v", err)
		}
		// Delivering through it terminates and never goes back in time.
		var c traceCursor
		last := int64(0)
		for i := 0; i < 20; i++ {
			at := c.consume(tr, 0, last, 1000+i*300)
			if at < last {
				t.Fatalf("opportunity %d at %d before %d", i, at, last)
			}
			last = at
		}
	})
}

// FuzzLinkModel runs arbitrary profiles and traffic through the pure model
// and checks that no packet is created or lost unaccounted.
func FuzzLinkModel(f *testing.F) {
	f.Add(int64(1), []byte{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}, []byte("some traffic to impair"))
	f.Add(int64(-7), []byte{255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0}, bytes.Repeat([]byte{0xff}, 300))
	f.Fuzz(func(t *testing.T, seed int64, knobs, traffic []byte) {
		k := func(i int) float64 {
			if i < len(knobs) {
				return float64(knobs[i]) / 255
			}
			return 0
		}
		p := Profile{
			Delay:        time.Duration(k(0) * float64(100*time.Millisecond)),
			Jitter:       time.Duration(k(1) * float64(50*time.Millisecond)),
			JitterDist:   Distribution(int(k(2) * 1.99)),
			AllowReorder: k(3) > 0.5,
			Loss:         k(4) / 2,
			Duplicate:    k(5) / 2,
			Corrupt:      k(6),
			Bandwidth:    int64(k(7) * 1e7),
			MTU:          int(k(8) * 40),
			Slot:         time.Duration(k(9) * float64(20*time.Millisecond)),
		}
		if p.Bandwidth > 0 {
			p.QueueBytes = int(k(10) * 100)
		}
		if k(11) > 0.5 {
			ge, err := GilbertElliottFromLoss(k(11)/2, 1+k(0)*5)
			if err == nil {
				p.Burst = &ge
			}
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("fuzz profile invalid: %v", err)
		}
		m := newLinkModel(p, seed)
		var now int64
		var delivered uint64
		for i := 0; i+2 <= len(traffic); i += 2 {
			size := int(traffic[i]) % 64
			now += int64(traffic[i+1]) * int64(time.Millisecond) / 8
			pkt := make([]byte, size)
			if size >= 8 {
				binary.BigEndian.PutUint64(pkt, uint64(i))
			}
			m.offer(now, pkt, meta{})
			for {
				q, ok := m.popDue(now)
				if !ok {
					break
				}
				if q.at > now {
					t.Fatalf("released at %d after now %d", q.at, now)
				}
				delivered++
				m.putBuf(q.buf)
			}
		}
		for {
			q, ok := m.popDue(math.MaxInt64)
			if !ok {
				break
			}
			delivered++
			m.putBuf(q.buf)
		}
		st := m.snapshot()
		if st.InFlight != 0 || st.QueuePackets != 0 || st.QueueBytes != 0 {
			t.Fatalf("not drained: %+v", st)
		}
		if got, want := delivered+st.Dropped(), st.OfferedPackets+st.Duplicated; got != want {
			t.Fatalf("delivered %d + dropped %d != offered %d + duplicated %d (%+v)", delivered, st.Dropped(), st.OfferedPackets, st.Duplicated, st)
		}
	})
}
