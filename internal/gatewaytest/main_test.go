package gatewaytest

import (
	"testing"

	"go.uber.org/goleak"
)

// No test may leave a goroutine behind: not the poller's, not the fake's, not
// the one that waits for Prism.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
