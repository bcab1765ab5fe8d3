package models_test

import (
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/models"
)

// TestDefaultCadenceIsTheSpecs holds DefaultCadence to the default the spec
// gives skill.json's poll_interval_minutes, so the two cannot drift.
func TestDefaultCadenceIsTheSpecs(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(heepr.OpenAPI())
	require.NoError(t, err)
	ref := doc.Components.Schemas["SkillManifest"]
	require.NotNil(t, ref, "the spec has no SkillManifest schema")
	prop := ref.Value.Properties["poll_interval_minutes"]
	require.NotNil(t, prop, "SkillManifest has no poll_interval_minutes")
	def, ok := prop.Value.Default.(float64)
	require.True(t, ok, "poll_interval_minutes has no numeric default: %v", prop.Value.Default)
	assert.Equal(t, time.Duration(def)*time.Minute, models.DefaultCadence)
}

func TestOnlineWindow(t *testing.T) {
	assert.Equal(t, time.Hour, models.OnlineWindow)
}
