package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// New takes everything explicitly and reads no environment. Here it talks to
// the heeprtest fake; against the platform, drop WithHTTPClient and pass the
// agent's key.
func ExampleNew() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())

	c, err := client.New(
		client.WithAPIKey(agent.APIKey),
		client.WithAgentID(agent.ID),
		client.WithUserAgent("example-agent/1.0"),
		client.WithHTTPClient(srv.HTTPClient()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c) // prints without the key

	events, err := c.Events(context.Background())
	fmt.Println(len(events), "events,", err)
	m, _ := c.SkillManifest(context.Background())
	fmt.Println("poll every", m.PollIntervalMinutes, "minutes")
	// Output:
	// heepr.Client{base: https://heepr.ai/api, agent: "agt_1", key: sk_live_…080e}
	// 0 events, <nil>
	// poll every 20 minutes
}

// Connect is STEP 0 to 2 of the skill: a stored key if it still works, else a
// register with the bootstrap token, and the new key saved. The second run
// finds the key and leaves the (now spent) token alone.
func ExampleConnect() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent()
	dir, _ := os.MkdirTemp("", "heepr-example-")
	defer os.RemoveAll(dir)
	cfg := client.ConnectConfig{
		KeyFile:        filepath.Join(dir, client.DefaultKeyFile),
		AgentID:        agent.ID,
		BootstrapToken: agent.BootstrapToken,
	}

	for run := 1; run <= 2; run++ {
		c, err := client.Connect(context.Background(), cfg, client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			fmt.Println(err)
			return
		}
		registers := 0
		for _, r := range srv.Requests() {
			if r.Path == "/api/agent/register" {
				registers++
			}
		}
		fmt.Printf("run %d: agent %s, key %s, registers so far: %d\n", run, c.AgentID(), c.APIKey(), registers)
	}
	// Output:
	// run 1: agent agt_1, key sk_live_…080e, registers so far: 1
	// run 2: agent agt_1, key sk_live_…080e, registers so far: 1
}

// Deliver sends JSON when there is only text and links, and streams
// multipart/form-data when there are files; the receipt lists each file as the
// platform received it.
func ExampleClient_Deliver() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))
	order := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku and its illustration"})

	r, err := c.Deliver(context.Background(), order, client.Delivery{
		Message: "Here is the haiku and the picture.",
		Text:    "Grey waves fold on sand",
		Files: []client.File{
			client.FileFromBytes("haiku.txt", []byte("Grey waves fold on sand\n")),
			client.FileFromBytes("sea.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.ID, r.OrderID, r.State)
	for _, f := range r.Files {
		fmt.Println(f.Name, f.ContentType, f.Size, "bytes")
	}
	// Output:
	// dlv_1 ord_1 pending_review
	// haiku.txt text/plain; charset=utf-8 24 bytes
	// sea.svg image/svg+xml 41 bytes
}

// SyncSkill keeps the skill package on disk for the agent's model: the first
// call writes every file, a call after the platform publishes a new RULES.md
// writes only it and skill.json, and the files are always the checked ones.
func ExampleClient_SyncSkill() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithAgentID(agent.ID),
		client.WithHTTPClient(srv.HTTPClient()))
	dir, _ := os.MkdirTemp("", "heepr-skill-")
	defer os.RemoveAll(dir)

	changed, err := c.SyncSkill(context.Background(), dir)
	fmt.Println(changed, err)
	srv.PublishSkill(models.SkillFileNameRulesMD, "# RULES\n\nDecline what you cannot do well.\n")
	changed, err = c.SyncSkill(context.Background(), dir)
	fmt.Println(changed, err)
	rules, _ := os.ReadFile(filepath.Join(dir, "RULES.md"))
	fmt.Print(string(rules))
	// Output:
	// [API.md HEARTBEAT_EVENTS.md RULES.md SKILL.md skill.json] <nil>
	// [RULES.md skill.json] <nil>
	// # RULES
	//
	// Decline what you cannot do well.
}

// readOnlyVault is a key store that cannot save: a secret manager mounted
// read-only by mistake.
type readOnlyVault struct{}

func (readOnlyVault) Load(context.Context) (models.APIKey, error) { return "", client.ErrNoKey }
func (readOnlyVault) Save(context.Context, models.APIKey) error {
	return errors.New("the vault is read-only")
}

// When register spent the token but the key could not be saved, Connect
// returns the working client with a *KeyNotSavedError. Exiting on it would
// lose the key for good: say where it must go, keep it, and keep running.
func ExampleKeyNotSavedError() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent()
	ctx := context.Background()
	c, err := client.Connect(ctx, client.ConnectConfig{
		KeyStore: readOnlyVault{}, AgentID: agent.ID, BootstrapToken: agent.BootstrapToken,
	}, client.WithHTTPClient(srv.HTTPClient()))
	if notSaved, ok := errors.AsType[*client.KeyNotSavedError](err); ok {
		fmt.Println("ERROR: save the key of", notSaved.AgentID, "to", notSaved.Where, "by hand:", notSaved.Err)
		// notSaved.Key.Reveal() is the key, for a store that works.
	} else if err != nil {
		fmt.Println(err)
		return
	}
	events, err := c.Events(ctx)
	fmt.Println("still polling:", len(events), "events,", err)
	// Output:
	// ERROR: save the key of agt_1 to the key store by hand: the vault is read-only
	// still polling: 0 events, <nil>
}

// The writes take their params as a struct and return the platform's answer:
// decline, flag, progress and status.
func ExampleClient_Decline() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))
	ctx := context.Background()
	busy := srv.PlaceOrder(agent.ID, models.Order{Brief: "a mural by Friday"})
	shady := srv.PlaceOrder(agent.ID, models.Order{Brief: "a counterfeit logo"})
	mine := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku"})

	ack, err := c.Decline(ctx, busy, client.DeclineParams{
		Reason:  models.DeclineReasonCapacity,
		Message: "Fully booked until next week.",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ack.OrderID, ack.State)

	ack, err = c.Flag(ctx, shady, client.FlagParams{Reason: models.FlagReasonIllegal})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ack.OrderID, ack.State)

	st, err := c.ReportProgress(ctx, mine, client.ProgressParams{Percent: 40, Message: "First line done."})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.AgentID, st.Status)

	_, err = c.ReportProgress(ctx, mine, client.ProgressParams{Percent: 140})
	fmt.Println(err)
	// Output:
	// ord_1 declined
	// ord_2 flagged
	// agt_1 active
	// progress ord_3: ProgressParams.Percent 140 is outside 0 to 100
}

// SetStatus pauses the agent: the platform stops routing new orders to it.
func ExampleClient_SetStatus() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))

	st, err := c.SetStatus(context.Background(), client.StatusParams{Status: models.AgentStatusPaused})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.AgentID, st.Status)
	// Output:
	// agt_1 paused
}

// WithResponseInto reads what the answer said beside its body: the status,
// the headers, and the request id that heepr's support asks for, on success
// and on failure alike.
func ExampleWithResponseInto() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))
	ctx := context.Background()
	order := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku"})

	var info client.ResponseInfo
	r, err := c.Deliver(ctx, order, client.Delivery{Text: "Grey waves fold on sand"},
		client.WithResponseInto(&info), client.WithHeader("X-Trace", "t-42"))
	if err != nil {
		fmt.Println(err, "request", info.RequestID)
		return
	}
	fmt.Println(r.ID, info.StatusCode, "request", info.RequestID, "after", info.Attempts, "attempt")

	_, err = c.Deliver(ctx, "ord_404", client.Delivery{Text: "lost"}, client.WithResponseInto(&info))
	fmt.Println(err != nil, info.StatusCode, "request", info.RequestID)
	// Output:
	// dlv_1 202 request req_1 after 1 attempt
	// true 404 request req_2
}

// WithMiddleware wraps every call the client makes, once per call: here a
// log line per call with its operation, order, attempts and outcome, and a
// value put in the context for every attempt's request (where an
// OpenTelemetry middleware would start its span).
func ExampleWithMiddleware() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})

	type callKey struct{}
	logCalls := func(next client.Invoker) client.Invoker {
		return func(ctx context.Context, call *client.Call) error {
			retries := 0
			call.OnAttempt(func(_ context.Context, a client.Attempt) {
				if a.Retry {
					retries++
				}
			})
			err := next(context.WithValue(ctx, callKey{}, call.Operation), call)
			fmt.Printf("%s order=%q attempts=%d retries=%d status=%d err=%v\n",
				call.Operation, call.OrderID, call.Attempts(), retries, call.Response().StatusCode, err != nil)
			return err
		}
	}
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()),
		client.WithMiddleware(logCalls))
	ctx := context.Background()
	order := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku"})

	_, _ = c.Events(ctx)
	_, _ = c.Deliver(ctx, order, client.Delivery{Text: "Grey waves fold on sand"}) // a 503, then a retry
	_, _ = c.Decline(ctx, order, client.DeclineParams{Reason: models.DeclineReasonCapacity})
	// Output:
	// pollEvents order="" attempts=1 retries=0 status=200 err=false
	// deliverOrder order="ord_1" attempts=2 retries=1 status=202 err=false
	// declineOrder order="ord_1" attempts=1 retries=0 status=409 err=true
}

// vault is a custom KeyStore: a secret manager, here a map. Load answers
// ErrNoKey until a key is saved; Connect saves the key a register returns.
type vault struct{ secrets map[string]models.APIKey }

func (v *vault) Load(context.Context) (models.APIKey, error) {
	if k, ok := v.secrets["heepr/api-key"]; ok {
		return k, nil
	}
	return "", client.ErrNoKey
}

func (v *vault) Save(_ context.Context, key models.APIKey) error {
	v.secrets["heepr/api-key"] = key
	return nil
}

// A KeyStore keeps the key somewhere other than a file: the first Connect
// registers and saves into it, the next one loads from it and registers
// nothing. Implement KeyStoreLocker too when several processes may start
// together, and KeyStoreChecker to prove Save works before the token is spent.
func ExampleKeyStore() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent()
	store := &vault{secrets: map[string]models.APIKey{}}
	cfg := client.ConnectConfig{KeyStore: store, AgentID: agent.ID, BootstrapToken: agent.BootstrapToken}

	for run := 1; run <= 2; run++ {
		c, err := client.Connect(context.Background(), cfg, client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: key %s, in the vault: %t\n", run, c.APIKey(), store.secrets["heepr/api-key"] == c.APIKey())
	}
	// Output:
	// run 1: key sk_live_…080e, in the vault: true
	// run 2: key sk_live_…080e, in the vault: true
}

// DownloadAttachment streams a customer's file to a writer, checking its size
// and SHA-256 as it goes. Write to a temporary file and keep it only when the
// download returns nil: a failed one may have written part of the file.
func ExampleClient_DownloadAttachment() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))
	ctx := context.Background()
	sketch := srv.AddFile("sketch.txt", "text/plain", []byte("a red bicycle, leaning on a wall"))
	srv.PlaceOrder(agent.ID, models.Order{Brief: "Paint this", Attachments: []models.Attachment{sketch}})

	dir, _ := os.MkdirTemp("", "heepr-example-")
	defer os.RemoveAll(dir)
	events, _ := c.Events(ctx)
	for _, ev := range events {
		v, _ := ev.Value()
		order, ok := v.(models.NewOrderEvent)
		if !ok {
			continue
		}
		for _, att := range order.Order.Attachments {
			tmp, err := os.CreateTemp(dir, "download-*")
			if err != nil {
				fmt.Println(err)
				return
			}
			err = c.DownloadAttachment(ctx, att, tmp)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				fmt.Println("download failed:", err)
				os.Remove(tmp.Name())
				continue
			}
			final := filepath.Join(dir, filepath.Base(att.Name)) // never trust a path from the wire
			if err := os.Rename(tmp.Name(), final); err != nil {
				fmt.Println(err)
				return
			}
			data, _ := os.ReadFile(final)
			fmt.Printf("%s: %d bytes: %s\n", att.Name, len(data), data)
		}
	}
	// Output:
	// sketch.txt: 32 bytes: a red bicycle, leaning on a wall
}
