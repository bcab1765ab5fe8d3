package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// An attachment's URL, and every redirect after it, is chosen by the platform
// or by whoever the platform's answer points at. Fetched blindly, it turns the
// agent into a proxy into its own machine and network: a redirect to
// http://127.0.0.1:8080/admin or to the cloud's metadata service at
// 169.254.169.254 comes back as "the attachment". This file holds the guard:
// which addresses are public, and a transport whose dials refuse the others.

// ErrPrivateAddress is wrapped by DownloadAttachment's error when the
// attachment's URL, a redirect, or the address a connection was about to be
// made to is not on the public internet (loopback, private, link-local and the
// like) while the platform is: see WithPrivateNetworkDownloads.
var ErrPrivateAddress = errors.New("heepr: refused a download from a non-public address")

// privateAddrError says what was refused. It is permanent: no retry makes an
// address public.
type privateAddrError struct{ what string }

func (e *privateAddrError) Error() string {
	return e.what + ": a non-public address (loopback, private, link-local or reserved), " +
		"and the platform's base URL is public; WithPrivateNetworkDownloads allows it for a self-hosted platform"
}

func (e *privateAddrError) Unwrap() error   { return ErrPrivateAddress }
func (e *privateAddrError) Permanent() bool { return true }

// reserved are the blocks that are neither public nor caught by netip's own
// predicates (loopback, private, link-local, multicast, unspecified): IANA's
// special-purpose registries, less the globally reachable entries.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network": Linux dials 0.x.y.z on the local host
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), ::1 and :: among them
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("5f00::/16"),       // SRv6 segment identifiers
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// isPublic reports whether ip is an address on the public internet.
func isPublic(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	// These embed an IPv4 address that a translator or relay reaches for us:
	// 64:ff9b::7f00:1 is 127.0.0.1 on the far side of a NAT64 gateway.
	if nat64.Contains(ip) {
		b := ip.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return true
}

// hostIsNonPublic reports whether a URL's host (as url.URL.Hostname gives it)
// names a non-public address by itself: an IP literal of one, in any of the
// spellings a resolver accepts (127.1, 0x7f000001, 2130706433), or
// "localhost" and its subdomains, which resolvers answer with loopback
// (RFC 6761). Any other name is public as far as its spelling goes; the dial
// check sees where it leads.
func hostIsNonPublic(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip, ok := hostIP(host); ok {
		return !isPublic(ip)
	}
	return false
}

// hostIP parses host as an IP address: netip's forms (a zone allowed), and
// the IPv4 forms of inet_aton that getaddrinfo, and so a cgo resolver,
// accepts: one to four parts, each decimal, octal (leading 0) or hex (0x).
func hostIP(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		// Every part but the last is one byte; the last fills the rest.
		bits := 8 * uint(4-i)
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= n << (bits - 8)
			continue
		}
		if bits < 32 && n >= 1<<bits {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// proxyNote collects, for one download, the proxies the transport chose. A
// connection to one of them is the program's own choice, not the platform's,
// and is not checked: the proxy, not this process, connects to the URL's
// host.
type proxyNote struct {
	mu    sync.Mutex
	addrs []string
}

type proxyNoteKey struct{}

func withProxyNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, proxyNoteKey{}, &proxyNote{})
}

func (n *proxyNote) add(addr string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	// A chain of at most maxRedirects+1 requests: a handful of entries.
	for _, a := range n.addrs {
		if a == addr {
			return
		}
	}
	n.addrs = append(n.addrs, addr)
}

func (n *proxyNote) has(addr string) bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.addrs {
		if a == addr {
			return true
		}
	}
	return false
}

func noteFrom(ctx context.Context) *proxyNote {
	n, _ := ctx.Value(proxyNoteKey{}).(*proxyNote)
	return n
}

// proxyAddr is the host:port a transport dials for the proxy u, as net/http
// spells it.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// guardTransport returns the transport downloads go through: for an
// *http.Transport (nil meaning http.DefaultTransport), a clone whose every
// dial refuses a non-public address; for any other RoundTripper, rt itself,
// since where it connects is out of the client's sight.
//
// Where the dial is net.Dialer's own (a transport without DialContext, or
// http.DefaultTransport), the check runs in Dialer.Control, on the resolved
// address, before the connection is made: a public name that resolves to
// 127.0.0.1 is refused however often its DNS answer changes. Where the
// transport has a dial function of its own, the check runs on the address of
// the connection it returns, before a byte is sent on it; a connection that
// reports no IP address (an in-memory pipe) is let through.
//
// The clone keeps no idle connections: it has no owner to close them, and a
// download's handshake is nothing beside its body.
func guardTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	g := t.Clone()
	g.DisableKeepAlives = true
	if t.Proxy != nil {
		g.Proxy = func(req *http.Request) (*url.URL, error) {
			u, err := t.Proxy(req)
			if err == nil && u != nil {
				noteFrom(req.Context()).add(proxyAddr(u))
			}
			return u, err
		}
	}

	legacyDial, legacyDialTLS := deprecatedDials(t)
	switch {
	case t == http.DefaultTransport || (t.DialContext == nil && legacyDial == nil):
		d := net.Dialer{}
		if t == http.DefaultTransport {
			// DefaultTransport's documented dialer, which Clone can only copy
			// as an opaque function.
			d = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		}
		g.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dd := d
			if !noteFrom(ctx).has(addr) {
				dd.Control = func(_, address string, _ syscall.RawConn) error { return checkDialled(addr, address) }
			}
			return dd.DialContext(ctx, network, addr)
		}
	default:
		dial := t.DialContext
		if dial == nil {
			dial = func(_ context.Context, network, addr string) (net.Conn, error) { return legacyDial(network, addr) }
		}
		// DialContext takes priority over Dial: the clone's Dial is never called.
		g.DialContext = checkConn(dial)
	}
	if t.DialTLSContext != nil || legacyDialTLS != nil {
		dial := t.DialTLSContext
		if dial == nil {
			dial = func(_ context.Context, network, addr string) (net.Conn, error) { return legacyDialTLS(network, addr) }
		}
		g.DialTLSContext = checkConn(dial)
	}
	return g
}

// deprecatedDials returns t's Dial and DialTLS: deprecated, but net/http
// still calls them when the Context forms are nil, so the guard must wrap
// them or a caller's own dialer would go unchecked.
func deprecatedDials(t *http.Transport) (dial, dialTLS func(network, addr string) (net.Conn, error)) {
	//lint:ignore SA1019 net/http still calls them (see above)
	return t.Dial, t.DialTLS
}

// checkConn wraps a dial function of the caller's own: the connection it
// makes is refused, closed before a byte is sent, when its remote address is
// not public.
func checkConn(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil || conn == nil || noteFrom(ctx).has(addr) {
			return conn, err
		}
		ra := conn.RemoteAddr()
		if ra == nil {
			return conn, nil
		}
		if err := checkDialled(addr, ra.String()); err != nil {
			conn.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Addr: ra, Err: err}
		}
		return conn, nil
	}
}

// checkDialled refuses a connection to address (an ip:port) made for addr
// (the host:port asked for) unless address is public. An address that is not
// an IP one is out of the check's reach and let through.
func checkDialled(addr, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil
	}
	if isPublic(ap.Addr()) {
		return nil
	}
	what := fmt.Sprintf("%s resolved to %s", addr, ap.Addr().WithZone(""))
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.WithZone("") == ap.Addr().WithZone("") {
			what = "dialled " + ap.Addr().WithZone("").String()
		}
	}
	return &privateAddrError{what: what}
}
