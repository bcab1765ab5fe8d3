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
	srv.PublishSkill(models.SkillFileNameRULESMd, "# RULES\n\nDecline what you cannot do well.\n")
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
