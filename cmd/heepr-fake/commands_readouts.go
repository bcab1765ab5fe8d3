package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// readout GETs a read-out route with the query q. With asJSON it prints the
// answer as the fake sent it and reports done; otherwise it decodes the
// answer into into, for the command to print a line per item.
func (f *fakeClient) readout(ctx context.Context, out io.Writer, route string, q url.Values, asJSON bool, into any) (done bool, err error) {
	if len(q) > 0 {
		route += "?" + q.Encode()
	}
	var raw json.RawMessage
	if err := f.call(ctx, http.MethodGet, route, nil, &raw); err != nil {
		return false, err
	}
	if asJSON {
		_, err := fmt.Fprintf(out, "%s\n", raw)
		return true, err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return false, fmt.Errorf("the fake's answer: %w", err)
	}
	return false, nil
}

// filter is a read-out's query: the parameter set when the flag is.
func filter(param, v string) url.Values {
	if v == "" {
		return nil
	}
	return url.Values{param: {v}}
}

// at formats a read-out's time as deliveries prints it.
func at(t time.Time) string { return t.Format(time.RFC3339) }

// printMessage prints an item's note on a line of its own, indented.
func printMessage(out io.Writer, msg string) {
	if msg != "" {
		fmt.Fprintf(out, "  message: %s\n", strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", "\n           "))
	}
}

// reasonedCommand lists declines or flags: GET /_fake/declines or /_fake/flags.
func reasonedCommand(route, verb string) func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	return func(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
		order := fs.String("order", "", "the order's id (default: every order)")
		asJSON := fs.Bool("json", false, "print the control API's JSON answer")
		return func(ctx context.Context, f *fakeClient, out io.Writer) error {
			var got map[string][]reasoned
			if done, err := f.readout(ctx, out, route, filter("order_id", *order), *asJSON, &got); done || err != nil {
				return err
			}
			if len(got[route]) == 0 {
				fmt.Fprintf(out, "no %s yet\n", route)
				return nil
			}
			for _, r := range got[route] {
				fmt.Fprintf(out, "%s %s: %s at %s\n", r.OrderID, verb, r.Reason, at(r.CreatedAt))
				printMessage(out, r.Message)
			}
			return nil
		}
	}
}

// progressCommand lists progress reports: GET /_fake/progress.
func progressCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	order := fs.String("order", "", "the order's id (default: every order)")
	asJSON := fs.Bool("json", false, "print the control API's JSON answer")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		var got struct {
			Progress []struct {
				OrderID   string    `json:"order_id"`
				Percent   int       `json:"percent"`
				Message   string    `json:"message"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"progress"`
		}
		if done, err := f.readout(ctx, out, "progress", filter("order_id", *order), *asJSON, &got); done || err != nil {
			return err
		}
		if len(got.Progress) == 0 {
			fmt.Fprintln(out, "no progress yet")
			return nil
		}
		for _, p := range got.Progress {
			fmt.Fprintf(out, "%s %d%% at %s\n", p.OrderID, p.Percent, at(p.CreatedAt))
			printMessage(out, p.Message)
		}
		return nil
	}
}

// statusesCommand lists the agents' status changes: GET /_fake/statuses.
func statusesCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	agent := fs.String("agent", "", "the agent's id (default: every agent)")
	asJSON := fs.Bool("json", false, "print the control API's JSON answer")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		var got struct {
			Statuses []struct {
				AgentID   string    `json:"agent_id"`
				Status    string    `json:"status"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"statuses"`
		}
		if done, err := f.readout(ctx, out, "statuses", filter("agent_id", *agent), *asJSON, &got); done || err != nil {
			return err
		}
		if len(got.Statuses) == 0 {
			fmt.Fprintln(out, "no status changes yet")
			return nil
		}
		for _, s := range got.Statuses {
			fmt.Fprintf(out, "%s %s at %s\n", s.AgentID, s.Status, at(s.CreatedAt))
		}
		return nil
	}
}

// requestsCommand lists the API's request log: GET /_fake/requests. Its last
// line is "next N", the -since of the next call.
func requestsCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	since := fs.Int("since", 0, "list the requests after this seq (the next of the last call)")
	asJSON := fs.Bool("json", false, "print the control API's JSON answer")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		if *since < 0 {
			return fmt.Errorf("-since %d: want the seq of the last request seen, 0 or more", *since)
		}
		var q url.Values
		if *since > 0 {
			q = url.Values{"since": {strconv.Itoa(*since)}}
		}
		var got struct {
			Requests []loggedRequest `json:"requests"`
			Next     int             `json:"next"`
		}
		if done, err := f.readout(ctx, out, "requests", q, *asJSON, &got); done || err != nil {
			return err
		}
		if len(got.Requests) == 0 {
			fmt.Fprintf(out, "no requests after seq %d\n", *since)
		}
		for _, r := range got.Requests {
			agent := r.AgentID
			if agent == "" {
				agent = "-"
			}
			fmt.Fprintf(out, "%d %s %s %s %d %s %s %.1fms", r.Seq, at(r.Time), r.Method, r.Path, r.Status, agent, r.RequestID, r.DurationMS)
			if r.Fault != "" {
				fmt.Fprintf(out, " fault:%s", r.Fault)
			}
			if r.Replayed {
				fmt.Fprint(out, " replayed")
			}
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "next %d\n", got.Next)
		return nil
	}
}

// violationsCommand lists the breaks of openapi.yaml and misused controls:
// GET /_fake/violations.
func violationsCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	asJSON := fs.Bool("json", false, "print the control API's JSON answer")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		var got struct {
			Violations []struct {
				Kind      string    `json:"kind"`
				Method    string    `json:"method"`
				Path      string    `json:"path"`
				RequestID string    `json:"request_id"`
				Error     string    `json:"error"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"violations"`
		}
		if done, err := f.readout(ctx, out, "violations", nil, *asJSON, &got); done || err != nil {
			return err
		}
		if len(got.Violations) == 0 {
			fmt.Fprintln(out, "no violations")
			return nil
		}
		for _, v := range got.Violations {
			where := ""
			if v.Method != "" || v.Path != "" {
				where = " " + strings.TrimSpace(v.Method+" "+v.Path)
			}
			if v.RequestID != "" {
				where += " (" + v.RequestID + ")"
			}
			fmt.Fprintf(out, "%s violation%s at %s\n  error: %s\n", v.Kind, where, at(v.CreatedAt),
				strings.ReplaceAll(strings.TrimRight(v.Error, "\n"), "\n", "\n         "))
		}
		return nil
	}
}
