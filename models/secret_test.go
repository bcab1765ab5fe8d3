package models_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/models"
)

const (
	testKey   = models.APIKey("sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f")
	testToken = models.BootstrapToken("bs_7d1e9a0c3b5f2e4d6a8c1b3e5f7a9d0c")
)

func TestSecretsPrintRedacted(t *testing.T) {
	reg := models.Registration{AgentID: "agt_1", APIKey: testKey}
	holder := struct {
		Token models.BootstrapToken
		Ptr   *models.APIKey
	}{testToken, &reg.APIKey}

	tests := []struct {
		name string
		got  string
		want string
	}{
		{"key String", testKey.String(), "sk_live_…2e4f"},
		{"token String", testToken.String(), "bs_…9d0c"},
		{"key %v", fmt.Sprintf("%v", testKey), "sk_live_…2e4f"},
		{"key %s", fmt.Sprintf("%s", testKey), "sk_live_…2e4f"},
		{"key %q", fmt.Sprintf("%q", testKey), `"sk_live_…2e4f"`},
		{"key %x", fmt.Sprintf("%x", testKey), "sk_live_…2e4f"},
		{"key %#v", fmt.Sprintf("%#v", testKey), `models.APIKey("sk_live_…2e4f")`},
		{"key GoString", testKey.GoString(), `models.APIKey("sk_live_…2e4f")`},
		{"token %#v", fmt.Sprintf("%#v", testToken), `models.BootstrapToken("bs_…9d0c")`},
		{"registration %v", fmt.Sprintf("%v", reg), "{agt_1 sk_live_…2e4f}"},
		{"registration %+v", fmt.Sprintf("%+v", reg), "{AgentID:agt_1 APIKey:sk_live_…2e4f}"},
		{"registration %#v", fmt.Sprintf("%#v", reg), `models.Registration{AgentID:"agt_1", APIKey:models.APIKey("sk_live_…2e4f")}`},
		{"nested %+v", fmt.Sprintf("%+v", holder), "{Token:bs_…9d0c Ptr:"},
		{"short key", models.APIKey("sk_live_abc").String(), "sk_live_…"},
		{"no prefix", models.APIKey("abcdefghijklmnopqrstuvwxyz").String(), "…wxyz"},
		{"empty", models.APIKey("").String(), ""},
		{"underscore late", models.APIKey("abcdefghijklmn_opqrstuvwxyz0123").String(), "…0123"},
		{"test key", models.APIKey("sk_test_4f9c2a7e1b8d4c6a9e0f3b5d").String(), "sk_test_…3b5d"},
		{"tail like a prefix", models.APIKey("sk_live_000000000000bs_0").String(), "sk_live_…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, tt.got, tt.want)
			assert.NotContains(t, tt.got, testKey.Reveal())
			assert.NotContains(t, tt.got, testToken.Reveal())
			assert.NotContains(t, tt.got, "4f9c2a7e", "a fragment of the key's middle leaked")
		})
	}
}

func TestSecretsLogRedacted(t *testing.T) {
	var buf bytes.Buffer
	for _, h := range []slog.Handler{
		slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
	} {
		log := slog.New(h)
		log.Debug("registered", "key", testKey, "token", testToken, slog.Any("any", testKey))
	}
	out := buf.String()
	assert.Contains(t, out, "sk_live_…2e4f")
	assert.Contains(t, out, "bs_…9d0c")
	assert.NotContains(t, out, testKey.Reveal())
	assert.NotContains(t, out, testToken.Reveal())
}

// The key must reach the wire whole: JSON is the one encoding that is not redacted.
func TestAPIKeyJSONIsWhole(t *testing.T) {
	b, err := json.Marshal(models.Registration{AgentID: "agt_1", APIKey: testKey})
	require.NoError(t, err)
	assert.JSONEq(t, `{"agent_id":"agt_1","api_key":"`+testKey.Reveal()+`"}`, string(b))

	var reg models.Registration
	require.NoError(t, json.Unmarshal(b, &reg))
	assert.Equal(t, testKey, reg.APIKey)
}
