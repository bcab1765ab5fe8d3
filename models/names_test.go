package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/heepr/heepr-go/models"
)

// TestSkillFileNames: the file names read as words (x-enum-varnames in
// openapi.yaml), not as the generator spells "HEARTBEAT_EVENTS.md".
func TestSkillFileNames(t *testing.T) {
	tests := []struct {
		c    models.SkillFileName
		want string
	}{
		{models.SkillFileNameSkillMD, "SKILL.md"},
		{models.SkillFileNameHeartbeatEventsMD, "HEARTBEAT_EVENTS.md"},
		{models.SkillFileNameRulesMD, "RULES.md"},
		{models.SkillFileNameAPIMD, "API.md"},
		{models.SkillFileNameSkillJSON, "skill.json"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(tt.c))
		assert.True(t, tt.c.Valid(), tt.want)
	}
	// The other sets keep the names oapi-codegen gave them.
	assert.Equal(t, models.ErrorCode("key_revoked"), models.ErrorCodeKeyRevoked)
	assert.Equal(t, models.EventKind("new_order"), models.EventKindNewOrder)
	assert.Equal(t, models.DeclineReason("out-of-scope"), models.DeclineReasonOutOfScope)
}
