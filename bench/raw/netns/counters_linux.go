package netns

import (
	"fmt"
	"strconv"
	"strings"
)

// Counters are the namespace's kernel SNMP counters keyed "Group.Name"
// ("Ip.ReasmOKs", "Tcp.InCsumErrors", "TcpExt.BeyondWindow", "IpExt.InCsumErrors").
type Counters map[string]int64

// Counters reads /proc/thread-self/net/snmp and .../netstat on the namespace
// thread: good negative controls for tests (corrupt a field, see a counter move).
func (n *NS) Counters() (Counters, error) {
	c := Counters{}
	for _, f := range []string{"/proc/thread-self/net/snmp", "/proc/thread-self/net/netstat"} {
		b, err := n.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("netns %s: %w", n.name, err)
		}
		if err := parseSNMP(c, string(b)); err != nil {
			return nil, fmt.Errorf("netns %s: %s: %w", n.name, f, err)
		}
	}
	return c, nil
}

// parseSNMP reads the "Group: names" / "Group: values" line pairs.
func parseSNMP(c Counters, s string) error {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 || names[0] != values[0] {
			return fmt.Errorf("line %d: header and values do not pair up", i+1)
		}
		group := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			v, err := strconv.ParseInt(values[j], 10, 64)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", group, names[j], err)
			}
			c[group+"."+names[j]] = v
		}
	}
	return nil
}
