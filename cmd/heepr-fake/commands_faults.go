package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/heepr/heepr-go/models"
)

// faultFlags names a fault's fields by the fault command's flags.
var faultFlags = map[string]string{
	"retry_after_seconds": "-retry-after",
	"latency_ms":          "-latency",
	"event_kind":          "-event-kind",
}

func faultFlag(jsonName string) string {
	if f, ok := faultFlags[jsonName]; ok {
		return f
	}
	return "-" + jsonName
}

// faultCommand scripts a failure: POST /_fake/faults.
func faultCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	var req faultRequest
	fs.StringVar(&req.Op, "op", "", `the operationId of openapi.yaml it matches, such as pollEvents, or "*" (default: every request)`)
	fs.StringVar(&req.Method, "method", "", "the method it matches, instead of -op")
	fs.StringVar(&req.Path, "path", "", "the path it matches as the spec writes it (/orders/{id}/deliver), instead of -op")
	fs.StringVar(&req.Kind, "kind", "", "status (default), drop-before-body, drop-after-body, latency, truncate, non-json, unknown-event or repeat-events")
	fs.IntVar(&req.Status, "status", 0, "the status answered, 400 to 599 (status and non-json kinds)")
	fs.StringVar(&req.Code, "code", "", "the error code answered (status kind)")
	fs.IntVar(&req.RetryAfterSeconds, "retry-after", 0, "the Retry-After answered, in seconds (status kind)")
	fs.IntVar(&req.LatencyMS, "latency", 0, "the delay, in milliseconds, 1 to 300000 (latency kind)")
	fs.IntVar(&req.Times, "times", 0, "the requests it fails (default once; -1: every request)")
	fs.Float64Var(&req.Probability, "probability", 0, "the chance it fails a matching request, 0 to 1 (default: always)")
	fs.StringVar(&req.EventKind, "event-kind", "", "the event kind served (unknown-event kind)")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		if _, err := req.fault(operations(), faultFlag); err != nil {
			return err
		}
		var got faultAnswer
		if err := f.call(ctx, http.MethodPost, "faults", req, &got); err != nil {
			return err
		}
		where := "every request"
		if got.Method != "" || got.Path != "" {
			where = strings.TrimSpace(got.Method + " " + got.Path)
			if got.Op != "*" {
				where += " (" + got.Op + ")"
			}
		}
		times := fmt.Sprintf("%d times", got.Times)
		switch got.Times {
		case 1:
			times = "once"
		case -1:
			times = "every time"
		}
		fmt.Fprintf(out, "fault %s on %s, %s\n", got.Kind, where, times)
		return nil
	}
}

// faultsClearCommand clears the faults not yet used up: DELETE /_fake/faults.
func faultsClearCommand(*flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		if err := f.call(ctx, http.MethodDelete, "faults", nil, nil); err != nil {
			return err
		}
		fmt.Fprintln(out, "faults cleared: those not yet used up are gone")
		return nil
	}
}

// skillFiles are the skill files PUT /_fake/skill/{file} publishes.
var skillFiles = []models.SkillFileName{
	models.SkillFileNameSkillMD, models.SkillFileNameHeartbeatEventsMD, models.SkillFileNameRulesMD, models.SkillFileNameAPIMD,
}

// skillCommand publishes a skill file for every agent: PUT /_fake/skill/{file}.
func skillCommand(fs *flag.FlagSet) func(context.Context, *fakeClient, io.Writer) error {
	file := fs.String("file", "", "SKILL.md, HEARTBEAT_EVENTS.md, RULES.md or API.md (required)")
	from := fs.String("from", "", "a file to publish as it")
	text := fs.String("text", "", "the text to publish as it")
	return func(ctx context.Context, f *fakeClient, out io.Writer) error {
		if err := required("-file", *file); err != nil {
			return err
		}
		if !slices.Contains(skillFiles, models.SkillFileName(*file)) {
			return fmt.Errorf("-file %q: publish SKILL.md, HEARTBEAT_EVENTS.md, RULES.md or API.md (skill.json follows from them and the cadence)", *file)
		}
		given := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
		if given["from"] == given["text"] {
			return errors.New("give one of -from and -text")
		}
		body := []byte(*text)
		if given["from"] {
			var err error
			if body, err = os.ReadFile(*from); err != nil {
				return fmt.Errorf("-from: %w", err)
			}
		}
		var got struct {
			File        string `json:"file"`
			ContentHash string `json:"content_hash"`
		}
		if err := f.do(ctx, http.MethodPut, "skill/"+url.PathEscape(*file), bytes.NewReader(body), "text/markdown; charset=utf-8", &got); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s published for every agent; its content_hash:\n%s\n", got.File, got.ContentHash)
		return nil
	}
}
