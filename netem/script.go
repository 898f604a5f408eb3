package netem

// dropRule is one scripted drop: drop the n-th packet (1-based, counted from
// when the rule was added) for which match returns true.
type dropRule struct {
	n, seen int
	match   func(pkt []byte) bool
}

// scriptDrop reports whether any rule drops pkt, advancing every rule's count
// and removing rules that have fired.
func scriptDrop(rules *[]dropRule, pkt []byte) bool {
	drop := false
	rs := *rules
	kept := rs[:0]
	for _, r := range rs {
		if r.match == nil || r.match(pkt) {
			r.seen++
			if r.seen == r.n {
				drop = true
				continue
			}
		}
		kept = append(kept, r)
	}
	for i := len(kept); i < len(rs); i++ {
		rs[i] = dropRule{}
	}
	*rules = kept
	return drop
}
