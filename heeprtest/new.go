package heeprtest

import "testing"

// New returns a fake platform for the test t, as [NewServer] does, and
// registers a cleanup that fails t with every [Violation] recorded by then
// (one Errorf each) and then closes the server. A test needs no defer and no
// assertion of its own:
//
//	srv := heeprtest.New(t)
//	c, _ := client.New(client.WithHTTPClient(srv.HTTPClient()))
//
// Under testing/synctest, call it inside the bubble (in the function given to
// synctest.Test), so that the server and its cleanup belong to the bubble.
// A test that expects violations (one that sends bad requests on purpose)
// uses [NewServer] and reads [Server.Violations] itself.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(func() {
		for _, v := range s.Violations() {
			t.Errorf("heeprtest: %s", v)
		}
		s.Close()
	})
	return s
}
