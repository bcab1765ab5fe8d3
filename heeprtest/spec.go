package heeprtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/models"
)

// loadSpec reads the embedded openapi.yaml, once per Server. Origins are kept
// so that API.md can list the paths in the document's order.
func loadSpec() (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.IncludeOrigin = true
	doc, err := l.LoadFromData(heepr.OpenAPI())
	if err == nil {
		err = doc.Validate(context.Background())
	}
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	return doc, nil
}

// openSets holds the values the spec lists today for each open set (a schema
// with x-extensible-enum), by schema name. The spec accepts any string there,
// so a request with another value reaches the handlers; the fake, playing the
// platform of today, refuses the ones it does not know.
type openSets map[string][]string

func newOpenSets(doc *openapi3.T) openSets {
	sets := openSets{}
	if doc == nil || doc.Components == nil {
		return sets
	}
	for name, ref := range doc.Components.Schemas {
		if ref == nil || ref.Value == nil {
			continue
		}
		list, ok := ref.Value.Extensions["x-extensible-enum"].([]any)
		if !ok {
			continue
		}
		for _, v := range list {
			if s, ok := v.(string); ok {
				sets[name] = append(sets[name], s)
			}
		}
	}
	return sets
}

// check answers 400 invalid_request, naming the field and the values the fake
// knows, when value is not one of the set's; nil when it is, or when the spec
// has no such set (then there is nothing to hold it to).
func (o openSets) check(set, field, value string) *apiErr {
	known, ok := o[set]
	if !ok {
		return nil
	}
	for _, k := range known {
		if k == value {
			return nil
		}
	}
	return apiError(models.ErrorCodeInvalidRequest, "%s %q is not a %s the platform knows; it takes one of: %s",
		field, value, set, strings.Join(known, ", "))
}
