// Package raw is the low-level heepr client, generated from openapi.yaml by
// oapi-codegen (raw.gen.go; never edit it, change the spec and run
// go generate). It holds what only the operations use: their parameters
// (RegisterAgentParams…), request bodies (DeclineOrderJSONRequestBody…, the
// multipart DeliveryUpload) and the aliases of the spec's shared responses
// (UnauthorizedResponse = models.ErrorEnvelope…). The wire types themselves
// are package models', named as models.X.
//
// Most programs want package client instead, which adds authentication,
// retries, idempotency keys, error decoding and streaming uploads over this
// one; client.Client.Raw hands out the generated client for anything it does
// not cover. Used directly, this package sends no Authorization header (add a
// RequestEditorFn) and does not retry. Read the status first: a non-2xx answer
// whose body is not the error envelope leaves every JSON… field nil.
package raw
