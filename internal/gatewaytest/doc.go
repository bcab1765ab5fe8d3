// Package gatewaytest runs the SDK end to end through a validating gateway:
// Stoplight Prism (`prism proxy --errors`) in front of the heeprtest fake,
// with openapi.yaml as the contract. It holds tests only.
//
// A gateway that validates against the spec sees the wire as another
// implementation does, not as kin-openapi (heeprtest's own validator) does.
// In v0.1.0 the Event union was a oneOf that only its discriminator told apart,
// so Prism, which ignores the discriminator, matched several branches, turned
// the fake's valid 200 with four events into a 500, and the poller's next poll
// got {}: the platform had drained them, and the events were lost. The test
// here proves that every event the fake sends through the gateway reaches a
// handler, that every call and every refusal comes through as the SDK
// expects, and that Prism found nothing to object to.
//
// The test needs Prism: it runs when $HEEPR_PRISM names the prism executable
// and skips otherwise, unless $HEEPR_REQUIRE_PRISM=1 (as in CI), when it fails.
// $HEEPR_GATEWAY_SPEC runs it against another copy of the spec, to see the
// failure it guards against:
//
//	git show f4d96c2~1:openapi.yaml > /tmp/v0.1.0.yaml
//	HEEPR_GATEWAY_SPEC=/tmp/v0.1.0.yaml go test ./internal/gatewaytest
package gatewaytest
