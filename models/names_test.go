package models_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestAttachmentSize: an absent size is nil (unknown), not 0, which is an
// empty file; both survive a round trip.
func TestAttachmentSize(t *testing.T) {
	var unknown, empty models.Attachment
	require.NoError(t, json.Unmarshal([]byte(`{"id":"att_1","name":"a","url":"/files/att_1"}`), &unknown))
	require.NoError(t, json.Unmarshal([]byte(`{"id":"att_2","name":"b","url":"/files/att_2","size":0}`), &empty))
	assert.Nil(t, unknown.Size)
	require.NotNil(t, empty.Size)
	assert.Zero(t, *empty.Size)

	b, err := json.Marshal(unknown)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "size")
	b, err = json.Marshal(empty)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"size":0`)
}

// TestRulesField: the platform rules, `sf` on the wire, read Rules in Go on
// every work-assignment event (x-go-name, set by models/oapi-codegen.overlay.yaml).
func TestRulesField(t *testing.T) {
	for _, v := range []any{models.NewOrderEvent{}, models.RevisionRequestEvent{},
		models.OwnerApprovedOrderEvent{}, models.ScopeChangeEvent{}} {
		typ := reflect.TypeOf(v)
		f, ok := typ.FieldByName("Rules")
		if assert.True(t, ok, "%s has a field Rules", typ.Name()) {
			assert.Equal(t, "sf", strings.Split(f.Tag.Get("json"), ",")[0], typ.Name())
			assert.Equal(t, reflect.String, f.Type.Kind(), typ.Name())
		}
		_, ok = typ.FieldByName("Sf")
		assert.False(t, ok, "%s has no field Sf", typ.Name())
	}

	var ev models.NewOrderEvent
	require.NoError(t, json.Unmarshal([]byte(`{"sf":"Flag policy violations."}`), &ev))
	assert.Equal(t, "Flag policy violations.", ev.Rules)
}
