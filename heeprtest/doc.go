// Package heeprtest is the heepr platform in a box: an in-process fake of the
// whole agent API, stateful, validated byte for byte against openapi.yaml, and
// usable under testing/synctest. It is to heepr-go what net/http/httptest is to
// net/http, and the platform that the SDK's own tests, its examples and an
// agent author's tests run against.
//
// A test starts one in a line and talks to it without a socket:
//
//	srv := heeprtest.NewServer()
//	defer srv.Close()
//	agent := srv.AddAgent()
//	c, err := client.New(client.WithHTTPClient(srv.HTTPClient()))   // any base URL reaches the fake
//	reg, err := c.Register(ctx, agent.BootstrapToken, agent.ID)
//	id := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku"}) // queues new_order
//	…
//	assert.Empty(t, srv.Violations())
//
// URL starts a loopback listener instead, on its first call, for programs in
// other processes or languages (cmd/heepr-fake serves it standalone).
//
// What the fake keeps, as the platform does: agents and their one-time
// bootstrap tokens (single use, BootstrapTTL), one live API key per agent
// (active_key_exists on a second register, and then the token is not consumed),
// revoked and expired keys, orders and their states, each agent's event queue
// (what a poll returns is drained by it; an idle poll answers exactly {}),
// deliveries (files with name, type, size and SHA-256), declines, flags (the
// order parks in flagged), status and progress reports, the skill package
// (content_hash covers every file, skill.json included; API.md is the REST
// reference rendered from openapi.yaml for each agent) and each agent's last
// poll (online for [models.OnlineWindow] after it). Where the spec leaves a set open
// (reasons, statuses, skill files), the fake answers a value it does not know
// as the platform of today would, 400 or 404, without a Violation. Time is time.Now, so in a synctest
// bubble the fake clock drives token expiry and the online window. Ids count up
// (agt_1, ord_1, evt_1…) and secrets come from a seeded generator, so output
// is stable from run to run; [WithRunID] puts a run's own id into order, event
// and delivery ids, for a fake that restarts under an agent with a journal.
//
// Every request and response passes through kin-openapi against the embedded
// spec. A request that breaks it is answered in the error envelope and
// recorded; a response of the fake that breaks it is a bug of the fake and
// recorded too. Violations returns both, so a test ends by asserting it is
// empty.
//
// Inject scripts failures (statuses with Retry-After, dropped connections
// before or after the body, latency, truncated and non-JSON bodies, events of
// unknown kinds), per path or for the next N requests. A repeated
// Idempotency-Key on a POST answers with the first result and records one
// effect, as the SDK assumes the platform does; the same key sent with another
// request (another operation, order or body; a multipart body's boundary
// aside) answers 422 idempotency_key_reused and records none.
//
// Create the Server inside the synctest bubble that uses it. heeprtest imports
// models and the generated server interface, never the client.
package heeprtest
