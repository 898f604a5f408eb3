package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/skiffnet/skiff"
)

// partSuffix marks a file still being received.
const partSuffix = ".skiff-part"

func cmdRecv(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "recv", "recv --listen ADDR [flags] [DIR]\n\n"+
		"Receives files sent with 'skiff send' into DIR (default: the current directory) and answers\n"+
		"'skiff ping'. A file is written as NAME"+partSuffix+" and renamed once its SHA-256 matches;\n"+
		"an interrupted transfer resumes from the partial file. Runs until Ctrl-C unless -once.")
	listen := fs.String("listen", "", "address to listen on (host:port, e.g. 0.0.0.0:4242)")
	once := fs.Bool("once", false, "exit after the first file transfer (status 1 if it failed)")
	var sf sessionFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *listen == "" {
		return usageErr("--listen is required")
	}
	if fs.NArg() > 1 {
		return usageErr("at most one DIR, got %d arguments", fs.NArg())
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("%s is not a directory", dir)
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	return serve(ctx, e, *listen, cfg, dir, *once)
}

func cmdPong(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "pong", "pong --listen ADDR [flags]\n\nAnswers 'skiff ping' (and refuses files). Runs until Ctrl-C.")
	listen := fs.String("listen", "", "address to listen on (host:port)")
	var sf sessionFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *listen == "" {
		return usageErr("--listen is required")
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	return serve(ctx, e, *listen, cfg, "", false)
}

// serve accepts sessions until ctx ends; dir "" refuses file transfers.
func serve(ctx context.Context, e *env, addr string, cfg *skiff.Config, dir string, once bool) error {
	ln, err := skiff.ListenAddr(addr, cfg)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	defer ln.Close()
	fmt.Fprintf(e.stderr, "skiff: listening on %s\n", ln.Addr())
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex // serialises transfers into the directory
		firstOnce sync.Once
		first     = make(chan error, 1) // the first file transfer's outcome (once)
	)
	defer wg.Wait()
	actx, stopAccepting := context.WithCancel(ctx)
	defer stopAccepting()
	for {
		s, err := ln.AcceptSession(actx)
		if err != nil {
			select {
			case err := <-first:
				return err
			default:
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			isFile, err := handleSession(ctx, e, s, dir, &mu)
			if err != nil {
				fmt.Fprintf(e.stderr, "skiff: %s: %v\n", s.RemoteAddr(), err)
			}
			if isFile && once {
				firstOnce.Do(func() {
					first <- err
					stopAccepting()
				})
			}
		}()
	}
}

// handleSession reads the opening message and serves a file transfer or a
// ping; it reports whether it was a file transfer.
func handleSession(ctx context.Context, e *env, s *skiff.Session, dir string, mu *sync.Mutex) (bool, error) {
	stop := context.AfterFunc(ctx, func() { s.Abort() }) // the server is shutting down
	defer stop()
	cctx, cancel := context.WithTimeout(ctx, controlTimeout)
	m, err := s.ReceiveMessage(cctx)
	cancel()
	if err != nil {
		s.Abort()
		return false, err
	}
	k, body, err := msgKind(m)
	if err != nil {
		s.Abort()
		return false, err
	}
	switch k {
	case kindPing:
		return false, echo(ctx, s)
	case kindFile:
		if dir == "" {
			_ = s.SendMessage(marshalResult(false, "this server answers pings only"), skiff.ReliableOrdered)
			closeSession(s)
			return true, errors.New("refused a file transfer (pong mode)")
		}
		mu.Lock()
		defer mu.Unlock()
		return true, receiveFile(ctx, e, s, dir, body)
	}
	s.Abort()
	return false, fmt.Errorf("%w: unexpected opening message %q", errProtocol, k)
}

// echo returns every message to its sender until the session ends.
func echo(ctx context.Context, s *skiff.Session) error {
	defer closeSession(s)
	for {
		m, err := s.ReceiveMessage(ctx)
		if err != nil {
			return nil // the pinger went away
		}
		if err := s.SendMessage(m, skiff.Unreliable); err != nil {
			return nil
		}
	}
}

func receiveFile(ctx context.Context, e *env, s *skiff.Session, dir string, body []byte) (err error) {
	var h hello
	if err := h.unmarshal(body); err != nil {
		s.Abort()
		return err
	}
	refuse := func(err error) error {
		_ = s.SendMessage(marshalResult(false, err.Error()), skiff.ReliableOrdered)
		closeSession(s)
		return err
	}
	if err := safeName(h.name); err != nil {
		return refuse(err)
	}
	final := filepath.Join(dir, h.name)
	part := final + partSuffix

	// What do we hold already?
	hasher := sha256.New()
	var have uint64
	if f, err := os.Open(part); err == nil {
		st, serr := f.Stat()
		if serr == nil && uint64(st.Size()) <= h.size {
			n, _ := io.Copy(hasher, f)
			have = uint64(n)
		}
		f.Close()
	}
	of := offer{offset: have}
	copy(of.prefix[:], hasher.Sum(nil))
	if err := s.SendMessage(of.marshal(), skiff.ReliableOrdered); err != nil {
		return err
	}
	var start uint64
	if err := receiveControl(ctx, s, kindStart, func(b []byte) (err error) {
		start, err = unmarshalStart(b)
		return err
	}); err != nil {
		s.Abort()
		return err
	}
	if start != 0 && start != have {
		s.Abort()
		return fmt.Errorf("%w: sender starts at %d, offered %d", errProtocol, start, have)
	}
	if start == 0 {
		hasher.Reset()
	}
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return refuse(err)
	}
	if err := f.Truncate(int64(start)); err != nil {
		f.Close()
		return refuse(err)
	}
	if _, err := f.Seek(int64(start), io.SeekStart); err != nil {
		f.Close()
		return refuse(err)
	}
	if start > 0 {
		fmt.Fprintf(e.stderr, "skiff: resuming %s at byte %d of %d\n", h.name, start, h.size)
	}
	began := time.Now()
	n, cerr := copyVerified(ctx, s, f, hasher, h.size-start)
	if err := errors.Join(cerr, f.Close()); err != nil {
		s.Abort()
		return fmt.Errorf("%s: received %d of %d bytes, kept %s for resuming: %w", h.name, start+uint64(n), h.size, part, err)
	}
	if got := hasher.Sum(nil); string(got) != string(h.sum[:]) {
		os.Remove(part)
		return refuse(fmt.Errorf("%s: SHA-256 mismatch (got %x, sender has %x); partial file removed", h.name, got[:8], h.sum[:8]))
	}
	if err := os.Rename(part, final); err != nil {
		return refuse(err)
	}
	if err := s.SendMessage(marshalResult(true, "ok"), skiff.ReliableOrdered); err != nil {
		return err
	}
	closeSession(s)
	el := time.Since(began)
	fmt.Fprintf(e.stdout, "received %s: %d bytes (from byte %d) in %.2f s, SHA-256 %x verified\n",
		final, h.size, start, el.Seconds(), h.sum[:8])
	return nil
}

// copyVerified copies exactly n bytes from the session into f and the
// hasher, flushing what arrived even when the transfer breaks off.
func copyVerified(ctx context.Context, s *skiff.Session, f *os.File, hasher hash.Hash, n uint64) (int64, error) {
	stop := context.AfterFunc(ctx, func() { s.Abort() })
	defer stop()
	w := bufio.NewWriterSize(f, 256<<10)
	got, err := io.CopyN(io.MultiWriter(w, hasher), s, int64(n))
	return got, errors.Join(err, w.Flush())
}

// closeGrace bounds a graceful close: a peer that has gone away would
// otherwise hold the close until the idle timeout.
const closeGrace = 3 * time.Second

// closeSession closes s gracefully (so the last message is delivered), or
// aborts it after closeGrace.
func closeSession(s *skiff.Session) {
	done := make(chan struct{})
	go func() {
		_ = s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
		_ = s.Abort()
		<-done
	}
}
