package rtp

import (
	"fmt"
	"time"
)

func init() {
	debugGiveUp = func(r *Receiver, f *inFrame, undecodable bool) {
		missing := []int{}
		for i, p := range f.parts {
			if p == nil {
				missing = append(missing, i)
			}
		}
		fmt.Printf("giveup num=%d kind=%v media=%v got=%d/%d missing=%v undecodable=%v playout=%v\n", f.num, f.desc.Kind, f.media, f.got, len(f.parts), missing, undecodable, r.playoutAt(f).Sub(r.base))
	}
}

func init() {
	debugRefuse = func(now time.Time, seq uint16, e *sentPacket, wait, owd time.Duration) {
		fmt.Printf("refuse seq=%d prio=%d late by %v (wait %v owd %v)\n", seq, e.priority, now.Add(wait+owd).Sub(e.deadline), wait, owd)
	}
}

func init() {
	debugRate = func(now time.Time, loss float64, rate float64) {
		fmt.Printf("rate %v loss %.3f -> %.0f\n", now.Format("05.000"), loss, rate)
	}
}
