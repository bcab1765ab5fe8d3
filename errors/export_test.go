package errors

import (
	"testing"

	"github.com/heepr/heepr-go/models"
)

// SpecErrorCodes lets the external tests (package errors_test) drive their
// tables from the spec's ErrorCode enum.
func SpecErrorCodes(t testing.TB) []models.ErrorCode { return specErrorCodes(t) }
