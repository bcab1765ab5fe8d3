package client

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsPublic(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // 8.8.8.8 through NAT64
		{"2002:808:808::1", true},  // 8.8.8.8 through 6to4

		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.0.1", false},
		{"169.254.169.254", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"100.64.0.1", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"224.0.0.1", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"::127.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"ff02::1", false},
		{"64:ff9b::7f00:1", false},    // 127.0.0.1 through NAT64
		{"64:ff9b::a9fe:a9fe", false}, // 169.254.169.254 through NAT64
		{"64:ff9b:1::1", false},
		{"2002:7f00:1::1", false}, // 127.0.0.1 through 6to4
		{"2002:c0a8:101::1", false},
		{"100::1", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip, err := netip.ParseAddr(tt.ip)
			require.NoError(t, err)
			assert.Equal(t, tt.want, isPublic(ip))
		})
	}
	assert.False(t, isPublic(netip.Addr{}), "the zero Addr")
}

func TestHostIsNonPublic(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"heepr.ai", false},
		{"files.example.com", false},
		{"8.8.8.8", false},
		{"2606:4700:4700::1111", false},
		{"localhost.example.com", false},
		{"cafe", false},
		{"1.2.3.4.5", false},
		{"0x", false},
		{"08", false}, // not octal: a name
		{"", false},

		{"localhost", true},
		{"LOCALHOST", true},
		{"localhost.", true},
		{"api.localhost", true},
		{"127.0.0.1", true},
		{"127.0.0.1.", true},
		{"::1", true},
		{"fe80::1%eth0", true},
		{"127.1", true},
		{"127.0.1", true},
		{"0x7f000001", true},
		{"0X7F.1", true},
		{"2130706433", true},
		{"017700000001", true},
		{"0177.0.0.01", true},
		{"10.0x1.2", true},
		{"0", true},
		{"169.254.43518", true}, // 169.254.169.254
		{"3232235777", true},    // 192.168.1.1
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			assert.Equal(t, tt.want, hostIsNonPublic(tt.host))
		})
	}
	for _, host := range []string{"256.1.1.1", "1.256.1.1", "1.2.65536", "4294967296", "0x100000000", "1.2.3.0x100"} {
		_, ok := hostIP(host)
		assert.False(t, ok, "%s is out of range: a name, not an address", host)
	}
	ip, ok := hostIP("8.0x8.2056")
	require.True(t, ok)
	assert.Equal(t, "8.8.8.8", ip.String())
}

// The guarded transport's dials, each path of it.
func TestGuardTransport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	_, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	toLoopback := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, ln.Addr().String())
	}
	ctx := withProxyNote(context.Background())

	t.Run("any other RoundTripper is left alone", func(t *testing.T) {
		rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.EOF })
		_, ok := guardTransport(rt).(roundTripFunc)
		assert.True(t, ok)
	})
	t.Run("a clone, never the caller's transport", func(t *testing.T) {
		tr := &http.Transport{}
		g := guardTransport(tr).(*http.Transport)
		assert.NotSame(t, tr, g)
		assert.Nil(t, tr.DialContext, "the caller's transport is unchanged")
		assert.True(t, g.DisableKeepAlives, "no idle connections without an owner")
	})

	// "localhost" resolves, through the hosts file, to the loopback address:
	// a name whose DNS answer is non-public, caught in Dialer.Control.
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"net.Dialer of a transport without DialContext", &http.Transport{}},
		{"net.Dialer of http.DefaultTransport", nil},
		{"net.Dialer of http.DefaultTransport, named", http.DefaultTransport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := guardTransport(tc.rt).(*http.Transport)
			conn, err := g.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
			require.Error(t, err)
			assert.Nil(t, conn)
			assert.ErrorIs(t, err, ErrPrivateAddress)
			assert.Contains(t, err.Error(), "localhost:"+port+" resolved to ")
			assert.Contains(t, err.Error(), "WithPrivateNetworkDownloads")
			assert.True(t, isPermanent(err), "not retried")
		})
	}
	t.Run("a dial function of the caller's own", func(t *testing.T) {
		g := guardTransport(&http.Transport{DialContext: toLoopback}).(*http.Transport)
		conn, err := g.DialContext(ctx, "tcp", "files.example.com:443")
		require.Error(t, err)
		assert.Nil(t, conn)
		assert.ErrorIs(t, err, ErrPrivateAddress)
		assert.Contains(t, err.Error(), "files.example.com:443 resolved to 127.0.0.1")
	})
	t.Run("a deprecated Dial of the caller's own", func(t *testing.T) {
		tr := &http.Transport{}
		//lint:ignore SA1019 the guard must wrap what net/http still calls
		tr.Dial = func(network, addr string) (net.Conn, error) { return toLoopback(context.Background(), network, addr) }
		g := guardTransport(tr).(*http.Transport)
		_, err := g.DialContext(ctx, "tcp", "files.example.com:443")
		assert.ErrorIs(t, err, ErrPrivateAddress)
	})
	t.Run("a TLS dial function of the caller's own", func(t *testing.T) {
		g := guardTransport(&http.Transport{DialTLSContext: toLoopback}).(*http.Transport)
		_, err := g.DialTLSContext(ctx, "tcp", "files.example.com:443")
		assert.ErrorIs(t, err, ErrPrivateAddress)
	})
	t.Run("a connection without an IP address is out of sight", func(t *testing.T) {
		g := guardTransport(&http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			a, b := net.Pipe()
			b.Close()
			return a, nil
		}}).(*http.Transport)
		conn, err := g.DialContext(ctx, "tcp", "files.example.com:443")
		require.NoError(t, err)
		conn.Close()
	})
	t.Run("the proxy the program chose is dialled", func(t *testing.T) {
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "via the proxy to "+r.URL.String())
		}))
		t.Cleanup(proxy.Close)
		pu, err := url.Parse(proxy.URL)
		require.NoError(t, err)
		g := guardTransport(&http.Transport{Proxy: http.ProxyURL(pu)}).(*http.Transport)
		hc := &http.Client{Transport: g}

		req, err := http.NewRequestWithContext(withProxyNote(context.Background()), http.MethodGet, "http://files.example.com/a.bin", nil)
		require.NoError(t, err)
		res, err := hc.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "via the proxy to http://files.example.com/a.bin", string(body))

		// Without a note of its own, a request cannot tell the proxy from a
		// target: the guard refuses.
		req, err = http.NewRequestWithContext(context.Background(), http.MethodGet, "http://files.example.com/a.bin", nil)
		require.NoError(t, err)
		_, err = hc.Do(req)
		assert.ErrorIs(t, err, ErrPrivateAddress)
	})
}

func TestCheckDialled(t *testing.T) {
	assert.NoError(t, checkDialled("heepr.ai:443", "8.8.8.8:443"))
	assert.NoError(t, checkDialled("heepr.ai:443", "@unix-socket"), "not an IP address: out of the check's reach")
	err := checkDialled("127.0.0.1:8080", "127.0.0.1:8080")
	assert.ErrorContains(t, err, "dialled 127.0.0.1: a non-public address")
	err = checkDialled("[fe80::1%eth0]:80", "[fe80::1%eth0]:80")
	assert.ErrorContains(t, err, "dialled fe80::1: a non-public address")
	err = checkDialled("files.example.com:443", "[::ffff:10.0.0.1]:443")
	assert.ErrorContains(t, err, "files.example.com:443 resolved to ::ffff:10.0.0.1: a non-public address")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
