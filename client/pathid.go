package client

import (
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
		return fmt.Errorf("empty %s", what)
	case id == "." || id == "..":
		return fmt.Errorf("%s %q is a dot segment, not an id", what, id)
	case len(id) > maxPathID:
		return fmt.Errorf("%s of %d bytes, over the %d an id may have", what, len(id), maxPathID)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q holds a control character", what, id)
		}
	}
	return nil
}

// paramError names a field of a method's params that cannot be sent, and why.
func paramError(field, problem string) error {
	return fmt.Errorf("%s %s", field, problem)
}
