package heeprtest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// No test may leave a goroutine behind: not the fake's listener, not a handler
// of the in-memory transport.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
