package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/models"
)

// Register exchanges a one-time bootstrap token (bs_…) for the agent's
// long-lived API key: STEP 1 of the skill. On success the client authenticates
// with the new key and knows its agent id; the caller must persist the key
// (Connect does), since the token is spent. An answer whose api_key is not a
// well-formed key, or whose agent_id is not the one asked, is an error, and
// nothing is installed.
//
// Register sends an Idempotency-Key and retries like any write with one, so a
// lost answer is asked for again rather than lost with the token. On the
// platform's refusal the error wraps an *herrors.APIError: ErrBootstrapUnknown,
// ErrBootstrapUsed, ErrBootstrapExpired, or ErrActiveKeyExists (the token was
// not consumed; the owner revokes the live key first). No error contains the
// token.
func (c *Client) Register(ctx context.Context, token models.BootstrapToken, agentID string, opts ...CallOption) (*models.Registration, error) {
	if token == "" {
		return nil, fmt.Errorf("register: %w", argErrorf("empty bootstrap token"))
	}
	if err := checkPathID("agent id", agentID); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", agentID, err)
	}
	params := &raw.RegisterAgentParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "register", agentID))}
	c.rememberToken(token.Reveal())
	var reg models.Registration
	err = c.invoke(ctx, cc, OperationRegisterAgent, "", func(ctx context.Context, cc callConfig) error {
		req, err := raw.NewRegisterAgentRequest(c.server, params, models.RegisterRequest{AgentID: agentID})
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bootstrap "+token.Reveal())
		return c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
			reg = models.Registration{} // a retried attempt starts afresh
			return decodeJSON(res, &reg, c.maxBody)
		})
	})
	if err = end(err); err != nil {
		return nil, fmt.Errorf("register %s: %w", agentID, err)
	}
	// What the platform answers becomes every later request's credentials:
	// check it before installing it.
	if err := checkKey(reg.APIKey.Reveal()); err != nil {
		return nil, fmt.Errorf("register %s: the platform's answer holds no usable api_key (%v); nothing installed", agentID, err)
	}
	switch reg.AgentID {
	case "":
		reg.AgentID = agentID
	case agentID:
	default:
		return nil, fmt.Errorf("register %s: the platform answered for agent %q, not the one asked; nothing installed", agentID, truncateID(reg.AgentID))
	}
	c.setCredentials(reg.APIKey, reg.AgentID)
	return &reg, nil
}

// truncateID shows an id from the network in an error, at most 64 bytes of it.
func truncateID(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}

// keyParam is the Idempotency-Key parameter: none for an empty key.
func keyParam(key string) *string {
	if key == "" {
		return nil
	}
	return &key
}
