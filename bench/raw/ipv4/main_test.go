package ipv4_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The kernel tests start namespace threads; none may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
