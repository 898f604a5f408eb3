// Command skiff is the command-line face of the skiff reliable-UDP library:
//
//	skiff bench            compare skiff with TCP and kcp-go on emulated links
//	skiff send FILE ADDR   send a file over a skiff session
//	skiff recv --listen ADDR [DIR]   receive files (and answer pings)
//	skiff netem --listen ADDR --to ADDR [impairments]   UDP impairment proxy
//	skiff ping ADDR        RTT, jitter and loss over a skiff session
//
// Exit codes: 0 success, 1 the operation failed (transfer, verification,
// benchmark cells), 2 bad usage (unknown command, bad flag value).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks errors caused by how the command was called (exit code 2).
var errUsage = errors.New("usage")

// usageError is a message that matches errUsage without repeating it.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

// command is one subcommand: it parses args and runs until ctx ends.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	// isTerminal reports whether stderr is an interactive terminal
	// (progress bars) — false in tests.
	isTerminal bool
}

func commands() []command {
	return []command{
		{"bench", "compare skiff with TCP and kcp-go over emulated links (the main job)", cmdBench},
		{"send", "send a file over a skiff session: skiff send FILE ADDR", cmdSend},
		{"recv", "receive files (and answer pings): skiff recv --listen ADDR [DIR]", cmdRecv},
		{"netem", "UDP impairment proxy: skiff netem --listen ADDR --to ADDR --loss 5% ...", cmdNetem},
		{"ping", "RTT, jitter and loss over a skiff session: skiff ping ADDR", cmdPing},
		{"pong", "answer pings only: skiff pong --listen ADDR", cmdPong},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, isTerminal: stderrIsTerminal()}, os.Args[1:]))
}

// run dispatches to a subcommand and maps its error to an exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return exitOK
			case errors.Is(err, flag.ErrHelp):
				return exitOK
			case errors.Is(err, errUsage):
				fmt.Fprintf(e.stderr, "skiff %s: %v\nRun 'skiff %s -h' for help.\n", c.name, err, c.name)
				return exitUsage
			default:
				fmt.Fprintf(e.stderr, "skiff %s: %v\n", c.name, err)
				return exitFail
			}
		}
	}
	fmt.Fprintf(e.stderr, "skiff: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "skiff: a reliable-UDP transport, its emulator and its benchmark.\n\nUsage: skiff COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'skiff COMMAND -h' for a command's flags.")
}

// usages holds each flag set's help printer, shown on -h only (a bad flag
// gets a one-line error and a pointer to -h instead of the whole list).
var usages sync.Map // *flag.FlagSet → func()

// newFlagSet returns a flag set that reports errors instead of exiting; its
// help goes to e.stderr on -h.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("skiff "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usages.Store(fs, func() {
		fmt.Fprintf(e.stderr, "Usage: skiff %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	})
	return fs
}

// parseFlags parses args; -h prints the help, a parse error becomes a usage
// error naming the flag and what is wrong with its value.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if u, ok := usages.Load(fs); ok {
			u.(func())()
		}
		return err
	default:
		return &usageError{err.Error()}
	}
}

func usageErr(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}
