package heepr_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	heepr "github.com/heepr/heepr-go"
	"github.com/stretchr/testify/require"
)

// TestVersionIsLatestRelease: Version is the newest release of CHANGELOG.md, and
// an [Unreleased] section stands above it for the compatibility gates (.ci/compat)
// to read. Cutting a release moves [Unreleased] under a new heading and this
// constant with it.
func TestVersionIsLatestRelease(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	s := string(b)
	unreleased := strings.Index(s, "\n## [Unreleased]\n")
	require.GreaterOrEqual(t, unreleased, 0, "CHANGELOG.md needs a ## [Unreleased] section")
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$`).FindStringSubmatchIndex(s)
	require.NotNil(t, m, "CHANGELOG.md has no release heading (## [x.y.z] - yyyy-mm-dd)")
	require.Less(t, unreleased, m[0], "[Unreleased] stands above the newest release")
	require.Equal(t, s[m[2]:m[3]], heepr.Version, "Version is the CHANGELOG's newest release")
	require.Contains(t, s, "\n["+heepr.Version+"]: ", "the release has its link at the foot")
}
