package client

import (
	"errors"
	"fmt"
	"unicode"
)

// maxPathID is the longest id the client puts in a URL path: the platform's
// ids are a few bytes, and one of kilobytes is a mistake or an attack.
const maxPathID = 256

// checkPathID refuses an id that would not name one resource once in a URL
// path: empty, a dot segment ("." and ".." are resolved away, so
// Deliver(ctx, "..", …) would post to /api/deliver), too long, or holding a
// control character. what names the argument in the error.
func checkPathID(what, id string) error {
	switch {
	case id == "":
		return argErrorf("empty %s", what)
	case id == "." || id == "..":
		return argErrorf("%s %q is a dot segment, not an id", what, id)
	case len(id) > maxPathID:
		return argErrorf("%s of %d bytes, over the %d an id may have", what, len(id), maxPathID)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return argErrorf("%s %q holds a control character", what, id)
		}
	}
	return nil
}

// paramError names a field of a method's params that cannot be sent, and why.
func paramError(field, problem string) error {
	return argErrorf("%s %s", field, problem)
}

// ErrInvalidArgument is matched (with errors.Is) by every error of a call the
// client refused before sending anything, because of the call's own arguments:
// an empty or malformed id, a params field out of range, an empty delivery, a
// header the client owns. The same call fails the same way every time, so
// nothing retries it: the poller reports a handler that returns it at once,
// without WithHandlerRetry's attempts. The error's text names the argument.
var ErrInvalidArgument = errors.New("heepr: invalid argument")

// argError is a refused argument: its text says which and why, and it matches
// ErrInvalidArgument.
type argError struct{ msg string }

func (e *argError) Error() string        { return e.msg }
func (e *argError) Is(target error) bool { return target == ErrInvalidArgument }

func argErrorf(format string, a ...any) error { return &argError{msg: fmt.Sprintf(format, a...)} }
