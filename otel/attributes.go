package heeprotel

import (
	"context"
	"errors"
	"net"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/poller"
)

// The attributes of heepr's own, beside the OpenTelemetry conventions' ones.
const (
	AttrOperation          = attribute.Key("heepr.operation")            // the spec's operationId: deliverOrder
	AttrOrderID            = attribute.Key("heepr.order.id")             // ord_…
	AttrAttempts           = attribute.Key("heepr.attempts")             // the HTTP attempts a call made
	AttrAttempt            = attribute.Key("heepr.attempt")              // one attempt's number, on a retry event
	AttrIdempotencyKeyHash = attribute.Key("heepr.idempotency_key.hash") // hex SHA-256 of the key
	AttrRequestID          = attribute.Key("heepr.request.id")           // the platform's X-Request-Id
	AttrRetryWait          = attribute.Key("heepr.retry.wait")           // seconds before the next attempt
	AttrPollEvents         = attribute.Key("heepr.poll.events")          // events a poll brought
	AttrPollOutcome        = attribute.Key("heepr.poll.outcome")         // events, idle, error
	AttrEventID            = attribute.Key("heepr.event.id")
	AttrEventKind          = attribute.Key("heepr.event.kind")
	AttrEventReplayed      = attribute.Key("heepr.event.replayed")    // from the journal at start
	AttrHandlerAttempt     = attribute.Key("heepr.handler.attempt")   // the run's number for this event, from 1
	AttrHandlerOutcome     = attribute.Key("heepr.handler.outcome")   // success, error, panic, unhandled
	AttrDecodeError        = attribute.Key("heepr.event.undecodable") // true when the event reached Default unread
)

// errorType is the class of a call's error, for error.type: the status code
// when the platform answered with an error, else what went wrong, in a few
// words; never the error's text.
func errorType(err error, status int) string {
	if status >= 400 {
		return strconv.Itoa(status)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, herrors.ErrInvalidResponse):
		return "invalid_response"
	case errors.Is(err, client.ErrTooLarge):
		return "too_large"
	case errors.Is(err, client.ErrInvalidArgument):
		return "invalid_argument"
	case errors.Is(err, client.ErrChecksumMismatch):
		return "checksum_mismatch"
	case errors.Is(err, client.ErrPrivateAddress):
		return "private_address"
	case errors.As(err, new(*client.PartialPollError)):
		return "partial_poll"
	case errors.As(err, &netErr):
		if netErr.Timeout() {
			return "timeout"
		}
		return "connection"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// handlerOutcome is a handler run's outcome and, for a failure, its class.
func handlerOutcome(err error) (outcome, class string) {
	if err == nil {
		return "success", ""
	}
	if errors.Is(err, poller.ErrUnhandled) {
		return "unhandled", "unhandled"
	}
	if errors.As(err, new(*poller.PanicError)) {
		return "panic", "panic"
	}
	if apiErr, ok := errors.AsType[*herrors.APIError](err); ok && apiErr.StatusCode != 0 {
		return "error", strconv.Itoa(apiErr.StatusCode)
	}
	return "error", errorType(err, 0)
}

// apiStatus is the status of the platform's refusal err wraps, 0 for none.
func apiStatus(err error) int {
	if apiErr, ok := errors.AsType[*herrors.APIError](err); ok {
		return apiErr.StatusCode
	}
	return 0
}
