package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/skiffnet/skiff"
)

// controlTimeout bounds each wait for a control message of the transfer
// protocol.
const controlTimeout = 30 * time.Second

func cmdSend(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "send", "send [flags] FILE ADDR\n\n"+
		"Sends FILE to a 'skiff recv' at ADDR (host:port) over a skiff session. The receiver checks\n"+
		"the SHA-256 of the whole file; a transfer that was interrupted resumes where it stopped.")
	var sf sessionFlags
	sf.register(fs)
	name := fs.String("name", "", "file name on the receiver (default: FILE's base name)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErr("want FILE and ADDR, got %d arguments", fs.NArg())
	}
	path, addr := fs.Arg(0), fs.Arg(1)
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	if *name == "" {
		*name = filepath.Base(path)
	}
	if err := safeName(*name); err != nil {
		return usageErr("-name: %v", err)
	}

	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hashing %s: %w", path, err)
	}
	hl := hello{name: *name, size: uint64(st.Size())}
	copy(hl.sum[:], h.Sum(nil))

	s, err := skiff.DialAddr(ctx, addr, cfg)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w (is 'skiff recv --listen %s' running?)", addr, err, addr)
	}
	ok := false
	defer func() {
		if !ok {
			s.Abort()
		}
	}()
	if err := s.SendMessage(hl.marshal(), skiff.ReliableOrdered); err != nil {
		return err
	}
	var of offer
	if err := receiveControl(ctx, s, kindOffer, of.unmarshal); err != nil {
		return err
	}
	start := uint64(0)
	if of.offset > 0 && of.offset <= hl.size {
		ph := sha256.New()
		if _, err := io.Copy(ph, io.NewSectionReader(f, 0, int64(of.offset))); err != nil {
			return err
		}
		if string(ph.Sum(nil)) == string(of.prefix[:]) {
			start = of.offset
		} else {
			fmt.Fprintf(e.stderr, "the receiver's partial %s differs from this file: sending it again from the start\n", *name)
		}
	}
	if start > 0 {
		fmt.Fprintf(e.stderr, "resuming %s at byte %d of %d\n", *name, start, hl.size)
	}
	if err := s.SendMessage(marshalStart(start), skiff.ReliableOrdered); err != nil {
		return err
	}

	began := time.Now()
	var bar *progressbar.ProgressBar
	if e.isTerminal {
		bar = progressbar.NewOptions64(int64(hl.size),
			progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription(*name),
			progressbar.OptionShowBytes(true), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		_ = bar.Set64(int64(start))
	}
	stop := context.AfterFunc(ctx, func() { s.Abort() })
	defer stop()
	buf := make([]byte, 64<<10)
	r := io.NewSectionReader(f, int64(start), int64(hl.size-start))
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := s.Write(buf[:n]); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted: %w", ctx.Err())
				}
				return fmt.Errorf("sending: %w", err)
			}
			if bar != nil {
				_ = bar.Add(n)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	var good bool
	var msg string
	if err := receiveControl(ctx, s, kindResult, func(b []byte) (err error) {
		good, msg, err = unmarshalResult(b)
		return err
	}); err != nil {
		return fmt.Errorf("waiting for the receiver's verdict: %w", err)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if !good {
		return fmt.Errorf("the receiver rejected %s: %s", *name, msg)
	}
	ok = true
	closeSession(s)
	el := time.Since(began)
	sent := hl.size - start
	fmt.Fprintf(e.stdout, "sent %s: %d bytes in %.2f s (%.2f Mbit/s), SHA-256 %x verified by the receiver\n",
		*name, sent, el.Seconds(), float64(sent)*8/el.Seconds()/1e6, hl.sum[:8])
	return nil
}

// receiveControl waits for the next message, checks it is of kind want and
// hands its body to parse.
func receiveControl(ctx context.Context, s *skiff.Session, want byte, parse func([]byte) error) error {
	cctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	m, err := s.ReceiveMessage(cctx)
	if err != nil {
		return err
	}
	k, body, err := msgKind(m)
	if err != nil {
		return err
	}
	if k != want {
		if k == kindResult {
			if _, msg, err := unmarshalResult(body); err == nil {
				return fmt.Errorf("the receiver refused: %s", msg)
			}
		}
		return fmt.Errorf("%w: got message %q, want %q", errProtocol, k, want)
	}
	return parse(body)
}
