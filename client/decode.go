package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	herrors "github.com/heepr/heepr-go/errors"
)

// decodeJSON decodes res's body, a 2xx answer, into v, reading at most max
// bytes: a larger body is an error, not an out-of-memory. A body cut short
// comes back wrapping io.ErrUnexpectedEOF, which the retry loop treats as a
// dropped connection. A body that is not JSON of v's shape, or that has
// anything but white space after its JSON, breaks the contract: a
// *herrors.InvalidResponseError, which is never retried.
func decodeJSON(res *http.Response, v any, max int64) error {
	lr := &io.LimitedReader{R: res.Body, N: max + 1}
	dec := json.NewDecoder(lr)
	err := dec.Decode(v)
	if err == nil {
		// The whole answer must be that one value: data after it means the
		// answer is not what it seems (two answers glued, a proxy's page).
		_, err = dec.Token()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err == nil || isSyntax(err):
			return herrors.NewInvalidResponse(res, "data after the JSON answer")
		}
	}
	if lr.N <= 0 {
		return fmt.Errorf("response body exceeds %d bytes (WithMaxResponseBytes)", max)
	}
	if isSyntax(err) {
		return herrors.NewInvalidResponse(res, "the body is not the JSON answer the API defines: "+err.Error())
	}
	return fmt.Errorf("decode %d response: %w", res.StatusCode, err)
}

// isSyntax reports an error of the JSON itself, as opposed to the reading of it.
func isSyntax(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

// missing names the required fields of an answer that are empty, from pairs
// of name and value: "" when none is.
func missing(pairs ...string) string {
	var names []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			names = append(names, pairs[i])
		}
	}
	return strings.Join(names, ", ")
}

// readAll reads res's body whole, up to max bytes.
func readAll(res *http.Response, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %d response: %w", res.StatusCode, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("response body exceeds %d bytes (WithMaxResponseBytes)", max)
	}
	return b, nil
}
