package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// kcp-go runs package-level scheduler goroutines for the life of the
// process (SystemTimedSched, the post-processing workers); they are not
// ours to stop. Everything else must be gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).run"),
		goleak.IgnoreAnyFunction("github.com/xtaci/kcp-go/v5.postProcessWorker"),
	)
}
