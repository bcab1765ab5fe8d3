package heeprotel

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURLAttributes(t *testing.T) {
	tests := []struct {
		url, host string
		port      int64
	}{
		{"https://heepr.ai/api/events", "heepr.ai", 443},
		{"http://127.0.0.1:8080/events", "127.0.0.1", 8080},
		{"http://[::1]:9/x", "::1", 9},
		{"http://[::1]/x", "::1", 80},
		{"https://cdn.example/a.bin", "cdn.example", 443},
	}
	for _, tt := range tests {
		got := map[string]any{}
		for _, kv := range urlAttributes(nil, tt.url) {
			got[string(kv.Key)] = kv.Value.AsInterface()
		}
		assert.Equal(t, map[string]any{"url.full": tt.url, "server.address": tt.host, "server.port": tt.port}, got, tt.url)
	}
	assert.Empty(t, urlAttributes(nil, "not a url"))
}
