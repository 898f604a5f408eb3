package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).run"),
		goleak.IgnoreAnyFunction("github.com/xtaci/kcp-go/v5.postProcessWorker"),
	)
}

// syncBuffer is a bytes.Buffer safe for a command's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCmd runs the CLI in-process and returns its exit code and output.
func runCmd(ctx context.Context, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := run(ctx, &env{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// background is a command running in a goroutine until stop.
type background struct {
	cancel context.CancelFunc
	done   chan int
	stderr *syncBuffer
	stdout *syncBuffer
}

func start(t *testing.T, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan int, 1), stderr: &syncBuffer{}, stdout: &syncBuffer{}}
	go func() { b.done <- run(ctx, &env{stdout: b.stdout, stderr: b.stderr}, args) }()
	t.Cleanup(func() { b.stop() })
	return b
}

func (b *background) stop() int {
	b.cancel()
	select {
	case code := <-b.done:
		b.done <- code
		return code
	case <-time.After(20 * time.Second):
		return -1
	}
}

// waitFor polls the command's stderr for re and returns the first group.
func (b *background) waitFor(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(b.stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q in stderr: %s", re, b.stderr.String())
	return ""
}

func randomFile(t *testing.T, dir string, size int) string {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, "payload.bin")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestUsageAndExitCodes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no_command", nil, exitUsage, "Usage: skiff COMMAND"},
		{"help", []string{"-h"}, exitOK, "Commands:"},
		{"unknown_command", []string{"fly"}, exitUsage, `unknown command "fly"`},
		{"send_help", []string{"send", "-h"}, exitOK, "Usage: skiff send"},
		{"send_missing_args", []string{"send", "x"}, exitUsage, "want FILE and ADDR"},
		{"send_bad_recovery", []string{"send", "-recovery", "magic", "f", "a:1"}, exitUsage, `-recovery "magic"`},
		{"send_bad_cc", []string{"send", "-cc", "vegas", "f", "a:1"}, exitUsage, `-cc "vegas"`},
		{"send_bad_max_datagram", []string{"send", "-mtu", "1400", "-max-datagram", "1300", "f", "a:1"}, exitUsage, "-max-datagram 1300: want 1400..65000"},
		{"send_missing_file", []string{"send", "/nonexistent/file", "127.0.0.1:1"}, exitFail, "no such file"},
		{"recv_needs_listen", []string{"recv"}, exitUsage, "--listen is required"},
		{"recv_bad_dir", []string{"recv", "--listen", "127.0.0.1:0", "/nonexistent"}, exitUsage, "is not a directory"},
		{"netem_needs_addresses", []string{"netem", "--loss", "5%"}, exitUsage, "both --listen and --to"},
		{"netem_bad_loss", []string{"netem", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--loss", "150%"}, exitUsage, "outside 0%..100%"},
		{"netem_bad_rate", []string{"netem", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--rate", "fast"}, exitUsage, "is not a rate"},
		{"netem_bad_delay", []string{"netem", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--delay", "20"}, exitUsage, "is not a duration"},
		{"ping_bad_count", []string{"ping", "-c", "-1", "127.0.0.1:1"}, exitUsage, "-c -1"},
		{"bench_bad_profile", []string{"bench", "-profiles", "P9"}, exitUsage, `unknown profile "p9"`},
		{"bench_bad_transport", []string{"bench", "-transports", "quic"}, exitUsage, `unknown transport "quic"`},
		{"bench_bad_workload", []string{"bench", "-workloads", "video2"}, exitUsage, `unknown workload "video2"`},
		{"bench_bad_size", []string{"bench", "-size", "lots"}, exitUsage, "is not a size"},
		{"bench_bad_reps", []string{"bench", "-reps", "0"}, exitUsage, "repetitions must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(ctx, tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.inStderr)
		})
	}
}

// TestSendRecvThroughNetemAtFivePercentLoss sends a file through 'skiff
// netem' at 5% loss each way and requires a byte-identical copy.
func TestSendRecvThroughNetemAtFivePercentLoss(t *testing.T) {
	for _, recovery := range []string{"rto", "nack", "fec-xor"} {
		t.Run(recovery, func(t *testing.T) { sendThroughLossyProxy(t, recovery) })
	}
}

func sendThroughLossyProxy(t *testing.T, recovery string) {
	src, dst := t.TempDir(), t.TempDir()
	file := randomFile(t, src, 1<<20)
	recv := start(t, "recv", "--listen", "127.0.0.1:0", "-recovery", recovery, dst)
	raddr := recv.waitFor(t, `listening on (\S+)`)
	proxy := start(t, "netem", "--listen", "127.0.0.1:0", "--to", raddr, "--loss", "5%", "--delay", "5ms", "--seed", "3")
	paddr := proxy.waitFor(t, `skiff netem: (\S+) ->`)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, out, stderr := runCmd(ctx, "send", "-recovery", recovery, file, paddr)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "verified by the receiver")

	want, err := os.ReadFile(file)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dst, "payload.bin"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "received file differs")
	require.Equal(t, exitOK, proxy.stop())
	require.Contains(t, proxy.stderr.String(), "dropped", "netem prints its counters at exit")
	require.Equal(t, exitOK, recv.stop())
}

// TestInterruptedTransferResumes cuts a slow transfer off midway, then
// sends again: the receiver offers the partial file and the sender
// continues from there.
func TestInterruptedTransferResumes(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	const size = 2 << 20
	file := randomFile(t, src, size)
	recv := start(t, "recv", "--listen", "127.0.0.1:0", dst)
	raddr := recv.waitFor(t, `listening on (\S+)`)
	// 4 Mbit/s: 2 MiB take ~4 s, time enough to interrupt.
	proxy := start(t, "netem", "--listen", "127.0.0.1:0", "--to", raddr, "--rate", "4mbit", "--queue", "32KiB", "--delay", "5ms")
	paddr := proxy.waitFor(t, `skiff netem: (\S+) ->`)

	part := filepath.Join(dst, "payload.bin"+partSuffix)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if st, err := os.Stat(part); err == nil && st.Size() >= 512<<10 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	code, _, stderr := runCmd(ctx, "send", file, paddr)
	cancel()
	require.NotEqual(t, exitOK, code, "the first send must be interrupted: %s", stderr)

	// The receiver notices the abort and keeps the partial file.
	require.Eventually(t, func() bool {
		return strings.Contains(recv.stderr.String(), "kept")
	}, 10*time.Second, 10*time.Millisecond, recv.stderr.String())
	st, err := os.Stat(part)
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(0))
	require.Less(t, st.Size(), int64(size))

	// The proxy answers only its first client: a new sender needs a new proxy.
	proxy.stop()
	proxy2 := start(t, "netem", "--listen", "127.0.0.1:0", "--to", raddr, "--delay", "5ms")
	paddr2 := proxy2.waitFor(t, `skiff netem: (\S+) ->`)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	code, out, stderr := runCmd(ctx2, "send", file, paddr2)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "resuming payload.bin at byte")
	require.Contains(t, out, "verified by the receiver")

	want, err := os.ReadFile(file)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dst, "payload.bin"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "resumed file differs")
	_, err = os.Stat(part)
	require.True(t, os.IsNotExist(err), "partial file must be gone")
}

func TestPingThroughNetem(t *testing.T) {
	pong := start(t, "pong", "--listen", "127.0.0.1:0")
	addr := pong.waitFor(t, `listening on (\S+)`)
	proxy := start(t, "netem", "--listen", "127.0.0.1:0", "--to", addr, "--delay", "10ms")
	paddr := proxy.waitFor(t, `skiff netem: (\S+) ->`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, stderr := runCmd(ctx, "ping", "-c", "5", "-i", "50ms", paddr)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "5 probes sent, 5 received, 0.0% loss")
	m := regexp.MustCompile(`rtt min/avg/max/mdev = ([0-9.]+)/`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	minRTT, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, minRTT, 19.0, "10 ms each way through the proxy")
}

func TestBenchCommandSmall(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd(context.Background(), "bench", "-profiles", "P1", "-transports", "skiff-rto,kcp-turbo",
		"-workloads", "bulk", "-size", "128KiB", "-out", dir, "-strict")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "| skiff-rto |")
	require.Contains(t, out, "| kcp-turbo |")
	require.Regexp(t, `\[  1/2 +\d+s\] bulk`, stderr)
	for _, f := range []string{"report.md", "results.json", "results.csv", "goodput-vs-loss.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
	}

	// -render prints the same tables from results.json.
	code, again, stderr := runCmd(context.Background(), "bench", "-render", filepath.Join(dir, "results.json"))
	require.Equal(t, exitOK, code, stderr)
	table := func(s string) string { return s[strings.Index(s, "### Bulk"):strings.Index(s, "### skiff against")] }
	require.Equal(t, table(out), table(again))
}
