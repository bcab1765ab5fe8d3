package models

// models.gen.go: the wire types, by oapi-codegen. enums.gen.go: the open sets
// (x-extensible-enum), which oapi-codegen would leave as plain strings.
//go:generate go tool -modfile=../tools.mod oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
//go:generate go run ../internal/cmd/openenums -spec ../openapi.yaml -out enums.gen.go -package models
