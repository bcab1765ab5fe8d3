package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// decodeJSON decodes res's body into v, reading at most max bytes: a larger
// body is an error, not an out-of-memory. A body cut short comes back wrapping
// io.ErrUnexpectedEOF, which the retry loop treats as a dropped connection.
func decodeJSON(res *http.Response, v any, max int64) error {
	lr := &io.LimitedReader{R: res.Body, N: max + 1}
	if err := json.NewDecoder(lr).Decode(v); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("response body exceeds %d bytes (WithMaxResponseBytes)", max)
		}
		return fmt.Errorf("decode %d response: %w", res.StatusCode, err)
	}
	return nil
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
