package errors

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/models"
)

// TestStatusOf holds the one code-to-status table to what each code of the
// spec's ErrorCode set is answered with: every code of the set has a row
// here and a status in the table, and a code the SDK does not know is a 500.
func TestStatusOf(t *testing.T) {
	want := map[models.ErrorCode]int{
		models.ErrorCodeBootstrapUnknown:     http.StatusUnauthorized,
		models.ErrorCodeBootstrapUsed:        http.StatusUnauthorized,
		models.ErrorCodeBootstrapExpired:     http.StatusUnauthorized,
		models.ErrorCodeActiveKeyExists:      http.StatusConflict,
		models.ErrorCodeKeyExpired:           http.StatusUnauthorized,
		models.ErrorCodeKeyRevoked:           http.StatusUnauthorized,
		models.ErrorCodeUnauthorized:         http.StatusUnauthorized,
		models.ErrorCodeForbidden:            http.StatusForbidden,
		models.ErrorCodeNotFound:             http.StatusNotFound,
		models.ErrorCodeMethodNotAllowed:     http.StatusMethodNotAllowed,
		models.ErrorCodeInvalidRequest:       http.StatusBadRequest,
		models.ErrorCodeConflict:             http.StatusConflict,
		models.ErrorCodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
		models.ErrorCodeRateLimited:          http.StatusTooManyRequests,
		models.ErrorCodeInternalError:        http.StatusInternalServerError,
		models.ErrorCodeUnavailable:          http.StatusServiceUnavailable,
	}
	for _, code := range specErrorCodes(t) {
		t.Run(string(code), func(t *testing.T) {
			w, ok := want[code]
			require.True(t, ok, "the spec's code %q has no expected status here", code)
			assert.Equal(t, w, StatusOf(code))
			bare := lookup(CodeForStatus(StatusOf(code)))
			require.NotNil(t, bare, "a bare %d stands for no code", StatusOf(code))
			assert.Equal(t, classOf(lookup(code)), classOf(bare), "a bare %d stands for %q or its class", StatusOf(code), code)
		})
	}
	assert.Len(t, want, len(specErrorCodes(t)), "a code here is no longer in the spec")
	for _, code := range []models.ErrorCode{"", "agent_suspended", "KEY_REVOKED"} {
		assert.Equal(t, http.StatusInternalServerError, StatusOf(code), "unknown code %q", code)
	}
}

// TestStatusOfAgreesWithSpecResponses: every error response the spec
// documents carries its example's code under one of the statuses the table
// gives that code, so what a service writes is what the spec says it writes.
func TestStatusOfAgreesWithSpecResponses(t *testing.T) {
	for _, c := range specResponses(t) {
		t.Run(strconv.Itoa(c.status)+" "+string(c.code), func(t *testing.T) {
			s := lookup(c.code)
			require.NotNil(t, s, "no sentinel for %q", c.code)
			assert.Contains(t, s.statuses, c.status, "the spec documents %q under %d; the table does not", c.code, c.status)
		})
	}
}

func TestCodeForStatus(t *testing.T) {
	tests := []struct {
		status int
		want   models.ErrorCode
	}{
		{400, models.ErrorCodeInvalidRequest}, {413, models.ErrorCodeInvalidRequest}, {422, models.ErrorCodeInvalidRequest},
		{401, models.ErrorCodeUnauthorized}, {403, models.ErrorCodeForbidden}, {404, models.ErrorCodeNotFound},
		{405, models.ErrorCodeMethodNotAllowed}, {409, models.ErrorCodeConflict}, {429, models.ErrorCodeRateLimited},
		{500, models.ErrorCodeInternalError},
		{502, models.ErrorCodeUnavailable}, {503, models.ErrorCodeUnavailable}, {504, models.ErrorCodeUnavailable},
		{0, ""}, {200, ""}, {304, ""}, {410, ""}, {418, ""}, {501, ""}, {507, ""}, {-1, ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			assert.Equal(t, tt.want, CodeForStatus(tt.status))
		})
	}
}

// TestStatusTable: the table is well formed. Every code has a status; the
// codes that share a status share a class, so a status without a known code
// falls in one class whichever of them it stands for; and no two specific
// codes claim a status that no generic code does.
func TestStatusTable(t *testing.T) {
	byStatus := map[int][]*sentinel{}
	for _, e := range sentinels() {
		s := e.(*sentinel)
		require.NotEmpty(t, s.statuses, "%q has no status", s.code)
		for _, st := range s.statuses {
			assert.True(t, st >= 400 && st <= 599, "%q: %d is not an error status", s.code, st)
			byStatus[st] = append(byStatus[st], s)
		}
	}
	for st, ss := range byStatus {
		generics := slices.DeleteFunc(slices.Clone(ss), func(s *sentinel) bool { return s.class != nil })
		assert.LessOrEqual(t, len(generics), 1, "%d is claimed by two generic codes", st)
		if len(generics) == 0 {
			assert.Len(t, ss, 1, "%d is claimed by several specific codes and no generic one", st)
		}
		for _, s := range ss {
			assert.Equal(t, statusClass(st), classOf(s), "%q under %d", s.code, st)
		}
	}
}
