package netem

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

type pcapRecord struct {
	ts   time.Time
	data []byte
}

// readPcap is a minimal pcap reader for the files pcapWriter produces.
func readPcap(b []byte) (linkType uint32, recs []pcapRecord, err error) {
	if len(b) < pcapFileHdrLen {
		return 0, nil, fmt.Errorf("short file header (%d bytes)", len(b))
	}
	if m := binary.LittleEndian.Uint32(b); m != pcapMagicNano {
		return 0, nil, fmt.Errorf("magic %#x", m)
	}
	linkType = binary.LittleEndian.Uint32(b[20:])
	b = b[pcapFileHdrLen:]
	for len(b) > 0 {
		if len(b) < pcapRecordHdr {
			return 0, nil, fmt.Errorf("short record header")
		}
		sec, nsec := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		incl, orig := binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
		if incl != orig || int(incl) > len(b)-pcapRecordHdr {
			return 0, nil, fmt.Errorf("record lengths %d/%d with %d bytes left", incl, orig, len(b))
		}
		recs = append(recs, pcapRecord{time.Unix(int64(sec), int64(nsec)), b[pcapRecordHdr : pcapRecordHdr+incl]})
		b = b[pcapRecordHdr+incl:]
	}
	return linkType, recs, nil
}

// parseIPUDP checks an IPv4/IPv6+UDP packet and returns its addresses and
// payload.
func parseIPUDP(t *testing.T, p []byte) (src, dst netip.AddrPort, payload []byte) {
	t.Helper()
	var s, d netip.Addr
	var udp []byte
	switch p[0] >> 4 {
	case 4:
		require.Equal(t, byte(0x45), p[0])
		require.Equal(t, len(p), int(binary.BigEndian.Uint16(p[2:])))
		require.Equal(t, byte(ipProtoUDP), p[9])
		require.Equal(t, uint16(0xffff), onesSum(0, p[:20]), "IPv4 header checksum")
		s, d = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		udp = p[20:]
	case 6:
		require.Equal(t, len(p)-40, int(binary.BigEndian.Uint16(p[4:])))
		require.Equal(t, byte(ipProtoUDP), p[6])
		s, d = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
		udp = p[40:]
		sum := onesSum(0, p[8:40])
		sum = onesSum(sum, []byte{0, 0, byte(len(udp) >> 8), byte(len(udp)), 0, 0, 0, ipProtoUDP})
		require.Equal(t, uint16(0xffff), onesSum(sum, udp), "UDP checksum")
	default:
		t.Fatalf("IP version %d", p[0]>>4)
	}
	require.Equal(t, len(udp), int(binary.BigEndian.Uint16(udp[4:])))
	return netip.AddrPortFrom(s, binary.BigEndian.Uint16(udp)), netip.AddrPortFrom(d, binary.BigEndian.Uint16(udp[2:])), udp[8:]
}

func TestPcapCaptureOfInMemoryDatagrams(t *testing.T) {
	for _, hosts := range [][2]string{{"10.0.0.1", "10.0.0.2"}, {"fd00::1", "fd00::2"}} {
		t.Run(hosts[0], func(t *testing.T) {
			var file bytes.Buffer
			synctest.Test(t, func(t *testing.T) {
				nw := NewNetwork(1)
				defer nw.Close()
				link, err := nw.Link(hosts[0], hosts[1], Profile{Delay: 10 * time.Millisecond}, Profile{})
				require.NoError(t, err)
				require.NoError(t, link.AToB().SetCapture(&file))
				a, err := nw.ListenPacket(netip.AddrPortFrom(netip.MustParseAddr(hosts[0]), 1111).String())
				require.NoError(t, err)
				b, err := nw.ListenPacket(netip.AddrPortFrom(netip.MustParseAddr(hosts[1]), 2222).String())
				require.NoError(t, err)
				for i := range 3 {
					_, err := a.WriteTo([]byte(fmt.Sprintf("datagram %d", i)), b.LocalAddr())
					require.NoError(t, err)
					time.Sleep(time.Millisecond)
				}
				time.Sleep(time.Second)
				synctest.Wait()
			})
			lt, recs, err := readPcap(file.Bytes())
			require.NoError(t, err)
			require.Equal(t, uint32(linkTypeRaw), lt)
			require.Len(t, recs, 3)
			for i, r := range recs {
				src, dst, payload := parseIPUDP(t, r.data)
				require.Equal(t, hosts[0], src.Addr().String())
				require.Equal(t, uint16(1111), src.Port())
				require.Equal(t, hosts[1], dst.Addr().String())
				require.Equal(t, uint16(2222), dst.Port())
				require.Equal(t, fmt.Sprintf("datagram %d", i), string(payload))
				if i > 0 {
					require.Equal(t, time.Millisecond, r.ts.Sub(recs[i-1].ts))
				}
			}
			checkWithTshark(t, file.Bytes(), 3)
		})
	}
}

func TestPcapCaptureOfRawPipeWritesPacketsAsIs(t *testing.T) {
	var file bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPipe(Profile{}, 1, func([]byte) {})
		require.NoError(t, err)
		defer p.Close()
		require.NoError(t, p.SetCapture(&file))
		raw := appendIPUDP(nil, netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("192.0.2.2:5353"), []byte("raw"))
		p.Send(raw)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.NoError(t, p.SetCapture(nil))
		p.Send(raw)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		_, recs, err := readPcap(file.Bytes())
		require.NoError(t, err)
		require.Len(t, recs, 1)
		require.Equal(t, raw, recs[0].data)
	})
}

// checkWithTshark lets Wireshark's dissector read the file when tshark is
// installed; the test does not depend on it.
func checkWithTshark(t *testing.T, file []byte, packets int) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Log("tshark not installed; checked with the built-in reader only")
		return
	}
	path := filepath.Join(t.TempDir(), "capture.pcap")
	require.NoError(t, os.WriteFile(path, file, 0o600))
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, packets, bytes.Count(out, []byte("1111\t2222")), string(out))
}
