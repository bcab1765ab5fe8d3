package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/models"
)

// DefaultPollIntervalMinutes is the cadence skill.json means when it names none.
const DefaultPollIntervalMinutes = 20

// Skill returns the current SKILL.md and the content hash of the whole skill
// package, which changes whenever any file of it does (skill.json included).
// It is read-only: it never drains the event queue, which is why Connect
// validates a stored key with it.
func (c *Client) Skill(ctx context.Context, opts ...CallOption) (*models.Skill, error) {
	req, err := raw.NewGetSkillRequest(c.server)
	if err != nil {
		return nil, fmt.Errorf("skill: %w", err)
	}
	var s models.Skill
	err = c.do(ctx, "skill", req, callOptions(opts), c.attempt, func(res *http.Response) error {
		return decodeJSON(res, &s, c.maxBody)
	})
	if err != nil {
		return nil, fmt.Errorf("skill: %w", err)
	}
	return &s, nil
}

// SkillFile returns the bytes of one file of the agent's skill package
// (SKILL.md, HEARTBEAT_EVENTS.md, RULES.md, API.md or skill.json), at most
// WithMaxResponseBytes of them. It needs the agent id (ErrNoAgentID).
func (c *Client) SkillFile(ctx context.Context, name models.SkillFileName, opts ...CallOption) ([]byte, error) {
	agentID := c.AgentID()
	if agentID == "" {
		return nil, fmt.Errorf("skill file %s: %w", name, ErrNoAgentID)
	}
	req, err := raw.NewGetSkillFileRequest(c.server, agentID, name)
	if err != nil {
		return nil, fmt.Errorf("skill file %s: %w", name, err)
	}
	var b []byte
	err = c.do(ctx, "skill file", req, callOptions(opts), c.attempt, func(res *http.Response) error {
		b, err = readAll(res, c.maxBody)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("skill file %s: %w", name, err)
	}
	return b, nil
}

// SkillManifest returns skill.json, typed: the owner's poll cadence and a
// SHA-256 per file. A manifest that names no cadence gets
// DefaultPollIntervalMinutes; one out of the range 1 to 60 is returned as it
// came (the poller clamps it).
func (c *Client) SkillManifest(ctx context.Context, opts ...CallOption) (*models.SkillManifest, error) {
	b, err := c.SkillFile(ctx, models.SkillFileNameSkillJSON, opts...)
	if err != nil {
		return nil, err
	}
	var m models.SkillManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("skill file skill.json: %w", err)
	}
	if m.PollIntervalMinutes == 0 {
		m.PollIntervalMinutes = DefaultPollIntervalMinutes
	}
	return &m, nil
}
