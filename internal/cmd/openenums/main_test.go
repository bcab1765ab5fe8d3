package main

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentifier(t *testing.T) {
	tests := []struct{ value, want string }{
		{"new_order", "NewOrder"},
		{"out-of-scope", "OutOfScope"},
		{"skill.json", "SkillJSON"},
		{"API.md", "APIMd"},
		{"HEARTBEAT_EVENTS.md", "HEARTBEATEVENTSMd"},
		{"SKILL.md", "SKILLMd"},
		{"request_id", "RequestID"},
		{"2fa", "V2fa"},
		{"---", "V"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Identifier(tt.value), tt.value)
	}
}

const specHead = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"

func TestSets(t *testing.T) {
	sets, err := Sets([]byte(specHead + `
    Kind:
      type: string
      description: What happened.
      x-extensible-enum: [new_order, scope_change]
    Plain:
      type: string
`))
	require.NoError(t, err)
	require.Len(t, sets, 1)
	assert.Equal(t, Set{Name: "Kind", Description: "What happened.", Values: []string{"new_order", "scope_change"}}, sets[0])

	src, err := Render("models", sets)
	require.NoError(t, err)
	_, err = parser.ParseFile(token.NewFileSet(), "enums.gen.go", src, parser.ParseComments)
	require.NoError(t, err, "%s", src)
	assert.Regexp(t, `KindNewOrder +Kind = "new_order"`, string(src))
	assert.Contains(t, string(src), "func (e Kind) Valid() bool")
}

func TestSetsRefuse(t *testing.T) {
	tests := []struct{ name, schema, want string }{
		{"closed enum", "    State:\n      type: string\n      enum: [a, b]\n", "State is a closed enum"},
		{"not a list", "    State:\n      type: string\n      x-extensible-enum: a\n", "non-empty list"},
		{"duplicate", "    State:\n      type: string\n      x-extensible-enum: [a, a]\n", "x-extensible-enum[1]"},
		{"not a string", "    State:\n      type: string\n      x-extensible-enum: [a, 3]\n", "x-extensible-enum[1] = 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sets([]byte(specHead + tt.schema))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRenderRefusesCollidingNames(t *testing.T) {
	_, err := Render("models", []Set{{Name: "Kind", Values: []string{"a_b", "a-b"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"a_b" and "a-b" both name the constant KindAB`)
}

func TestSetsVarnames(t *testing.T) {
	sets, err := Sets([]byte(specHead + `
    File:
      type: string
      x-extensible-enum: [SKILL.md, HEARTBEAT_EVENTS.md]
      x-enum-varnames: [SkillMD, HeartbeatEventsMD]
`))
	require.NoError(t, err)
	require.Len(t, sets, 1)
	assert.Equal(t, []string{"SkillMD", "HeartbeatEventsMD"}, sets[0].Names)

	src, err := Render("models", sets)
	require.NoError(t, err)
	assert.Regexp(t, `FileSkillMD +File = "SKILL.md"`, string(src))
	assert.Regexp(t, `FileHeartbeatEventsMD +File = "HEARTBEAT_EVENTS.md"`, string(src))
	assert.Contains(t, string(src), "case FileSkillMD, FileHeartbeatEventsMD:")
	assert.NotContains(t, string(src), "SKILLMd", "x-enum-varnames replaces the derived names")
}

func TestSetsVarnamesRefused(t *testing.T) {
	head := "    File:\n      type: string\n      x-extensible-enum: [a.md, b.md]\n"
	tests := []struct{ name, names, want string }{
		{"one name short", "[AMD]", "want a list of 2 names"},
		{"not a list", "AMD", "want a list of 2 names"},
		{"not an identifier", "[AMD, B.md]", "[1] = B.md"},
		{"unexported", "[AMD, bMD]", "[1] = bMD"},
		{"duplicate", "[AMD, AMD]", "[1] = AMD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sets([]byte(specHead + head + "      x-enum-varnames: " + tt.names + "\n"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "File: x-enum-varnames: ")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
