package heepr

// The generated layer, in the order it must run (go generate runs this file's
// lines top to bottom, and this package before any other):
//   - models: the schemas (oapi-codegen, with models/oapi-codegen.overlay.yaml),
//     then the open sets (internal/cmd/openenums);
//   - client/raw and server: oapi-codegen, then internal/cmd/qualify, which
//     drops their copy of the schemas and names models' types as models.X. It
//     reads package models, so models comes first.
// Paths in the oapi-codegen.yaml files are relative to this directory.
//go:generate go tool -modfile=tools.mod oapi-codegen -config models/oapi-codegen.yaml openapi.yaml
//go:generate go run ./internal/cmd/openenums -spec openapi.yaml -out models/enums.gen.go -package models
//go:generate go tool -modfile=tools.mod oapi-codegen -config client/raw/oapi-codegen.yaml openapi.yaml
//go:generate go run ./internal/cmd/qualify -models models -file client/raw/raw.gen.go
//go:generate go tool -modfile=tools.mod oapi-codegen -config server/oapi-codegen.yaml openapi.yaml
//go:generate go run ./internal/cmd/qualify -models models -file server/server.gen.go
