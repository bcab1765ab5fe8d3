package errors_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	herrors "github.com/heepr/heepr-go/errors"
)

func TestInvalidResponse(t *testing.T) {
	res := &http.Response{StatusCode: 202, Header: http.Header{"X-Request-Id": {"req_8"}}}
	err := herrors.NewInvalidResponse(res, "the receipt has no id")
	assert.EqualError(t, err, "heepr: the platform's 202 answer breaks the API contract: the receipt has no id (request req_8)")
	assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
	assert.False(t, herrors.IsRetryable(err))

	huge := &http.Response{StatusCode: 200, Header: http.Header{"X-Request-Id": {strings.Repeat("r", 5<<20)}}}
	err = herrors.NewInvalidResponse(huge, "sk_live_abcdefghijklmnopqrstuvwx in the body")
	assert.Less(t, len(err.Error()), 400, "server strings are capped")
	assert.NotContains(t, err.Error(), "abcdefghijklmnop")
	assert.Less(t, len(err.RequestID), 200)
	assert.True(t, errors.Is(err, herrors.ErrInvalidResponse))
}
