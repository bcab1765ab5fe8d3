package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// defaultFake is the root URL of a fake started with the default -addr;
// envFake overrides it for every command.
const (
	defaultFake = "http://127.0.0.1:8080"
	envFake     = "HEEPR_FAKE_URL"
)

// commandsUsage lists the commands, for -h.
const commandsUsage = `  agent      [-id agt_x] [-cadence N] [-manual]   add an agent; prints its export lines
  token      -agent ID                      a fresh bootstrap token; prints the export lines
  revoke     -agent ID                      revoke the agent's live key
  expire     -agent ID                      expire the agent's live key
  cadence    -agent ID -minutes N           the poll cadence skill.json advertises (1 to 60)
  order      -agent ID -brief TEXT [-attach FILE]… [-scope] [-tier] [-price] [-deadline]
             [-revisions N]                 place an order; prints its id alone on the last line
  revision   -order ID -brief TEXT          the customer asks for a revision; prints the event id
  approve    -order ID [-note TEXT]         the owner approves a pending order; prints the event id
  deny       -order ID [-note TEXT]         the owner denies the order; prints the event id
  scope      -order ID [-scope] [-brief] [-deadline]   the owner changes it; prints the event id
  skill      -file NAME (-from PATH | -text TEXT)   publish SKILL.md, HEARTBEAT_EVENTS.md,
                                            RULES.md or API.md; prints its content_hash last
  fault      [-op ID | -method M -path P] [-kind K] [-status N] [-code C] [-retry-after S]
             [-latency MS] [-times N] [-probability P] [-event-kind K]   script a failure
  faults-clear                              clear the faults not yet used up
  deliveries [-order ID] [-wait 30s] [-json]   the deliveries received, with their files
  declines   [-order ID] [-json]            the declines received
  flags      [-order ID] [-json]            the flags received
  progress   [-order ID] [-json]            the progress reports received
  statuses   [-agent ID] [-json]            the agents' status changes
  requests   [-since N] [-json]             the API's request log; "next N" on the last line
  violations [-json]                        the breaks of openapi.yaml, and misused controls
  reset                                     forget orders, deliveries, logs and faults
`

// command is one subcommand: its flags, and what it does with them.
type command struct {
	usage string
	flags func(fs *flag.FlagSet) func(ctx context.Context, f *fakeClient, out io.Writer) error
}

// commands are the subcommands, by name.
var commands = map[string]command{
	"agent": {"agent [-id agt_x] [-cadence N] [-manual]", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		id := fs.String("id", "", "the agent's id (default: the next of agt_1, agt_2…)")
		cadence := fs.Int("cadence", 0, "poll cadence in minutes, 1 to 60 (default: the fake's)")
		manual := fs.Bool("manual", false, "its orders wait for the owner's approval (heepr-fake approve)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			body := map[string]any{}
			if *id != "" {
				body["agent_id"] = *id
			}
			if *cadence != 0 {
				body["cadence_minutes"] = *cadence
			}
			if *manual {
				body["manual_acceptance"] = true
			}
			var got tokenAnswer
			if err := f.call(ctx, http.MethodPost, "agents", body, &got); err != nil {
				return err
			}
			printExports(out, got)
			return nil
		}
	}},
	"token": {"token -agent ID", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		agent := fs.String("agent", "", "the agent's id (required)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-agent", *agent); err != nil {
				return err
			}
			var got tokenAnswer
			if err := f.call(ctx, http.MethodPost, "agents/"+url.PathEscape(*agent)+"/token", nil, &got); err != nil {
				return err
			}
			printExports(out, got)
			return nil
		}
	}},
	"revoke": endKeyCommand("revoke"),
	"expire": endKeyCommand("expire"),
	"cadence": {"cadence -agent ID -minutes N", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		agent := fs.String("agent", "", "the agent's id (required)")
		minutes := fs.Int("minutes", 0, "the cadence, 1 to 60 (required)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-agent", *agent); err != nil {
				return err
			}
			if err := checkCadence(*minutes); err != nil {
				return fmt.Errorf("-minutes: %w", err)
			}
			var got struct {
				AgentID        string `json:"agent_id"`
				CadenceMinutes int    `json:"cadence_minutes"`
			}
			if err := f.call(ctx, http.MethodPut, "agents/"+url.PathEscape(*agent)+"/cadence", map[string]int{"minutes": *minutes}, &got); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s cadence %d minutes\n", got.AgentID, got.CadenceMinutes)
			return nil
		}
	}},
	"order": {"order -agent ID -brief TEXT [-attach FILE]… [flags]", orderCommand},
	"revision": {"revision -order ID -brief TEXT", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		order := fs.String("order", "", "the order's id (required)")
		brief := fs.String("brief", "", "what the customer wants changed (required)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-order", *order); err != nil {
				return err
			}
			if err := required("-brief", *brief); err != nil {
				return err
			}
			return f.orderAction(ctx, out, *order, "revision", map[string]string{"brief": *brief})
		}
	}},
	"approve": noteCommand("approve"),
	"deny":    noteCommand("deny"),
	"scope": {"scope -order ID [-scope TEXT] [-brief TEXT] [-deadline RFC3339]", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		order := fs.String("order", "", "the order's id (required)")
		scope := fs.String("scope", "", "the new scope")
		brief := fs.String("brief", "", "the new brief")
		deadline := fs.String("deadline", "", "the new deadline, RFC 3339 (2026-12-01T09:00:00Z)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-order", *order); err != nil {
				return err
			}
			if *scope == "" && *brief == "" && *deadline == "" {
				return errors.New("give at least one of -scope, -brief and -deadline")
			}
			return f.orderAction(ctx, out, *order, "scope", map[string]string{"scope": *scope, "brief": *brief, "deadline": *deadline})
		}
	}},
	"skill":        {"skill -file NAME (-from PATH | -text TEXT)", skillCommand},
	"fault":        {"fault [-op ID | -method M -path P] [-kind KIND] [flags]", faultCommand},
	"faults-clear": {"faults-clear", faultsClearCommand},
	"deliveries":   {"deliveries [-order ID] [-wait DURATION] [-json]", deliveriesCommand},
	"declines":     {"declines [-order ID] [-json]", reasonedCommand("declines", "declined")},
	"flags":        {"flags [-order ID] [-json]", reasonedCommand("flags", "flagged")},
	"progress":     {"progress [-order ID] [-json]", progressCommand},
	"statuses":     {"statuses [-agent ID] [-json]", statusesCommand},
	"requests":     {"requests [-since N] [-json]", requestsCommand},
	"violations":   {"violations [-json]", violationsCommand},
	"reset": {"reset", func(*flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := f.call(ctx, http.MethodPost, "reset", nil, nil); err != nil {
				return err
			}
			fmt.Fprintln(out, "reset: orders, deliveries, logs and faults forgotten; agents and keys kept")
			return nil
		}
	}},
}

// runCommand runs the subcommand name against the fake -fake names.
func runCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("no command %q; heepr-fake -h lists them", name)
	}
	fs := flag.NewFlagSet("heepr-fake "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: heepr-fake %s\n\nFlags:\n", cmd.usage)
		fs.PrintDefaults()
	}
	root := defaultFake
	if env := os.Getenv(envFake); env != "" {
		root = env
	}
	fakeURL := fs.String("fake", root, "the running fake's root URL ($"+envFake+")")
	do := cmd.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (flags come as -name value)", name, fs.Arg(0))
	}
	u, err := url.Parse(strings.TrimSuffix(*fakeURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-fake %q: want the fake's root URL, such as %s", *fakeURL, defaultFake)
	}
	u.Path = strings.TrimSuffix(u.Path, "/api") // the API's base URL works too
	return do(ctx, &fakeClient{root: u.String(), hc: &http.Client{Timeout: time.Minute}}, stdout)
}

func required(flagName, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", flagName)
	}
	return nil
}

// printExports prints an agent's id and token as lines a shell can eval.
func printExports(out io.Writer, t tokenAnswer) {
	fmt.Fprintf(out, "export %s=%s\n", client.EnvAgentID, t.AgentID)
	fmt.Fprintf(out, "export %s=%s\n", client.EnvBootstrapToken, t.BootstrapToken)
}

func endKeyCommand(verb string) command {
	return command{verb + " -agent ID", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		agent := fs.String("agent", "", "the agent's id (required)")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-agent", *agent); err != nil {
				return err
			}
			var got struct {
				AgentID  string `json:"agent_id"`
				KeyState string `json:"key_state"`
			}
			if err := f.call(ctx, http.MethodPost, "agents/"+url.PathEscape(*agent)+"/"+verb, nil, &got); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s key %s\n", got.AgentID, got.KeyState)
			return nil
		}
	}}
}

func noteCommand(verb string) command {
	return command{verb + " -order ID [-note TEXT]", func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		order := fs.String("order", "", "the order's id (required)")
		note := fs.String("note", "", "the owner's note to the agent")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			if err := required("-order", *order); err != nil {
				return err
			}
			return f.orderAction(ctx, out, *order, verb, map[string]string{"note": *note})
		}
	}}
}

// files is a flag given once per file.
type files []string

func (f *files) String() string     { return strings.Join(*f, ", ") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func orderCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	agent := fs.String("agent", "", "the agent's id (required)")
	brief := fs.String("brief", "", "what the customer asks for")
	scope := fs.String("scope", "", "the order's scope")
	tier := fs.String("tier", "", "the gig's tier")
	price := fs.Int64("price", 0, "the price in points")
	deadline := fs.String("deadline", "", "the deadline, RFC 3339 (default: 72 hours from now)")
	revisions := fs.Int("revisions", 0, "revisions allowed")
	var attach files
	fs.Var(&attach, "attach", "a file to attach, uploaded to the fake (repeat for more)")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		if err := required("-agent", *agent); err != nil {
			return err
		}
		order := map[string]any{"agent_id": *agent, "brief": *brief}
		for k, v := range map[string]string{"scope": *scope, "tier": *tier, "deadline": *deadline} {
			if v != "" {
				order[k] = v
			}
		}
		if *price != 0 {
			order["price"] = *price
		}
		if *revisions != 0 {
			order["revisions_allowed"] = *revisions
		}
		var got struct {
			OrderID     string             `json:"order_id"`
			EventID     string             `json:"event_id"`
			Attachments []attachmentAnswer `json:"attachments"`
		}
		body, ct, err := orderForm(order, attach)
		if err != nil {
			return err
		}
		if err := f.do(ctx, http.MethodPost, "orders", body, ct, &got); err != nil {
			return err
		}
		for _, a := range got.Attachments {
			fmt.Fprintf(out, "attachment %s %s %d bytes sha256 %s\n", a.ID, a.Name, a.Size, a.SHA256)
		}
		fmt.Fprintf(out, "event %s queued for %s\n", got.EventID, *agent)
		fmt.Fprintln(out, got.OrderID) // alone on the last line, for scripts
		return nil
	}
}

// orderForm is a multipart order: the "order" part and a "file" part per path.
func orderForm(order map[string]any, paths []string) (io.Reader, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	js, err := json.Marshal(order)
	if err != nil {
		return nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="order"`)
	h.Set("Content-Type", "application/json")
	w, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := w.Write(js); err != nil {
		return nil, "", err
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("-attach: %w", err)
		}
		w, err := mw.CreateFormFile("file", filepath.Base(p))
		if err != nil {
			return nil, "", err
		}
		if _, err := w.Write(data); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return &buf, mw.FormDataContentType(), nil
}

func deliveriesCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	order := fs.String("order", "", "the order's id (default: every order)")
	wait := fs.Duration("wait", 0, "wait up to this long for a first delivery (0: do not wait)")
	asJSON := fs.Bool("json", false, "print the control API's JSON answer")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		path := "deliveries"
		if *order != "" {
			path += "?order_id=" + url.QueryEscape(*order)
		}
		deadline := time.Now().Add(*wait)
		for {
			var raw json.RawMessage
			if err := f.call(ctx, http.MethodGet, path, nil, &raw); err != nil {
				return err
			}
			var got struct {
				Deliveries []delivery `json:"deliveries"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				return fmt.Errorf("the fake's answer: %w", err)
			}
			if len(got.Deliveries) == 0 && time.Now().Before(deadline) {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			if *asJSON {
				_, err := fmt.Fprintf(out, "%s\n", raw)
				return err
			}
			if len(got.Deliveries) == 0 {
				fmt.Fprintln(out, "no deliveries yet")
				if *wait > 0 {
					return fmt.Errorf("no delivery within %s", *wait)
				}
				return nil
			}
			for _, d := range got.Deliveries {
				fmt.Fprintf(out, "%s for %s from %s at %s\n", d.ID, d.OrderID, d.AgentID, d.CreatedAt.Format(time.RFC3339))
				if d.Message != "" {
					fmt.Fprintf(out, "  message: %s\n", d.Message)
				}
				if d.Text != "" {
					fmt.Fprintf(out, "  text: %s\n", strings.ReplaceAll(strings.TrimRight(d.Text, "\n"), "\n", "\n        "))
				}
				for _, l := range d.Links {
					fmt.Fprintf(out, "  link: %s\n", l)
				}
				for _, file := range d.Files {
					fmt.Fprintf(out, "  file: %s (%d bytes, sha256 %s) %s\n", file.Name, file.Size, file.SHA256, file.URL)
				}
			}
			return nil
		}
	}
}

// fakeClient calls a running fake's control API.
type fakeClient struct {
	root string
	hc   *http.Client
}

// orderAction posts an owner or customer action and prints the event it queued.
func (f *fakeClient) orderAction(ctx context.Context, out io.Writer, order, action string, body map[string]string) error {
	for k, v := range body {
		if v == "" {
			delete(body, k)
		}
	}
	var got struct {
		OrderID string `json:"order_id"`
		EventID string `json:"event_id"`
	}
	if err := f.call(ctx, http.MethodPost, "orders/"+url.PathEscape(order)+"/"+action, body, &got); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s for %s queued\n%s\n", action, got.OrderID, got.EventID)
	return nil
}

// call sends body as JSON (none when nil) to the control route and decodes
// the answer into into (skipped when nil).
func (f *fakeClient) call(ctx context.Context, method, route string, body, into any) error {
	var r io.Reader
	ct := ""
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r, ct = bytes.NewReader(js), "application/json"
	}
	return f.do(ctx, method, route, r, ct, into)
}

func (f *fakeClient) do(ctx context.Context, method, route string, body io.Reader, contentType string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, f.root+controlPath+route, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := f.hc.Do(req)
	if err != nil {
		return fmt.Errorf("is heepr-fake running at %s? %w", f.root, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	if res.StatusCode >= 300 {
		var env models.ErrorEnvelope
		if json.Unmarshal(data, &env) == nil && env.Error.Message != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, req.URL.Path, res.StatusCode, env.Error.Code, env.Error.Message)
		}
		return fmt.Errorf("%s %s: %s (is %s a heepr-fake?)", method, req.URL.Path, res.Status, f.root)
	}
	if into == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s %s: the answer is not the control API's JSON: %w", method, req.URL.Path, err)
	}
	return nil
}
