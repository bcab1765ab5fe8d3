package river_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// envChild makes the test binary a replica process for the proof test.
const envChild = "HEEPR_RIVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "replica" {
		if err := runReplica(); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
