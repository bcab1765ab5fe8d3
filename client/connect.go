package client

import (
	"context"
	"errors"
	"fmt"
	"os"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// The environment variables Connect reads for the fields a ConnectConfig and
// its options leave unset. New reads none.
const (
	EnvAPIKey         = "HEEPR_API_KEY"         // a key; wins over a stored one
	EnvAgentID        = "HEEPR_AGENT_ID"        // the agent's id
	EnvBootstrapToken = "HEEPR_BOOTSTRAP_TOKEN" // the one-time token, for a first run
	EnvBaseURL        = "HEEPR_BASE_URL"        // the base URL; WithBaseURL wins over it
)

// ConnectConfig says where Connect finds the agent's credentials.
type ConnectConfig struct {
	// KeyFile is where the key is kept between runs (default DefaultKeyFile in
	// the working directory). Ignored when KeyStore is set.
	KeyFile string
	// KeyStore keeps the key instead of a file: a secret manager, or a
	// read-only source.
	KeyStore KeyStore
	// AgentID is the agent's id (default: $HEEPR_AGENT_ID).
	AgentID string
	// BootstrapToken is the one-time token, needed only when there is no
	// working key (default: $HEEPR_BOOTSTRAP_TOKEN).
	BootstrapToken models.BootstrapToken
}

// Connect returns a client ready to poll: STEP 0 to STEP 2 of the skill.
//
//  1. The key: $HEEPR_API_KEY if set, else the key store (the key file).
//  2. A key found is validated with a read-only call (GET /skill, never
//     GET /events, which would drain the queue). If it works, Connect is done
//     and the bootstrap token is left untouched.
//  3. With no key, or one the platform refuses (revoked, expired, unknown),
//     Connect registers with the bootstrap token and saves the new key in the
//     store (a file: temporary file, fsync, rename, mode 0600).
//
// Errors: a key file that cannot be read, or holds no key (ErrCorruptKey), is
// an error and is never overwritten. A transient failure while validating
// returns its error without registering, since registering would spend the
// token. ErrActiveKeyExists (in the chain) means the agent has a live key that
// this program does not hold: the token was not consumed, and the owner must
// revoke the live key first; the error says so. When register succeeded but
// saving failed, Connect returns the working client and a *KeyNotSavedError
// carrying the key, so the caller can save it: the token is spent by then.
//
// Unset fields come from HEEPR_API_KEY, HEEPR_AGENT_ID, HEEPR_BOOTSTRAP_TOKEN
// and HEEPR_BASE_URL; options given to Connect win over the environment.
func Connect(ctx context.Context, cfg ConnectConfig, opts ...Option) (*Client, error) {
	var pre []Option
	if u := os.Getenv(EnvBaseURL); u != "" {
		pre = append(pre, WithBaseURL(u))
	}
	if cfg.AgentID == "" {
		cfg.AgentID = os.Getenv(EnvAgentID)
	}
	if cfg.AgentID != "" {
		pre = append(pre, WithAgentID(cfg.AgentID))
	}
	if cfg.BootstrapToken == "" {
		cfg.BootstrapToken = models.BootstrapToken(os.Getenv(EnvBootstrapToken))
	}
	store := cfg.KeyStore
	if store == nil {
		path := cfg.KeyFile
		if path == "" {
			path = DefaultKeyFile
		}
		store = KeyFile(path)
	}
	c, err := New(append(pre, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}

	// STEP 0: a key that still works means we are done.
	key, source := models.APIKey(os.Getenv(EnvAPIKey)), "$"+EnvAPIKey
	if key == "" {
		source = "the key store"
		key, err = store.Load(ctx)
		if err != nil && !errors.Is(err, ErrNoKey) {
			return nil, fmt.Errorf("connect: %w", err)
		}
	}
	var refused error
	if key != "" {
		c.setCredentials(key, "")
		_, err := c.Skill(ctx)
		switch {
		case err == nil:
			c.log.DebugContext(ctx, "heepr: connected with a stored key", "source", source, "key", key)
			return c, nil
		case herrors.IsFatalAuth(err):
			refused = fmt.Errorf("the key from %s was refused: %w", source, err)
			c.setCredentials("", "")
		default:
			return nil, fmt.Errorf("connect: validate the key from %s (not registering, which would spend the bootstrap token): %w", source, err)
		}
	}

	// STEP 1: bootstrap.
	why := "no stored API key"
	if refused != nil {
		why = refused.Error()
	}
	if cfg.BootstrapToken == "" {
		return nil, fmt.Errorf("connect: %s, and no bootstrap token to register with (set ConnectConfig.BootstrapToken or $%s): %w",
			why, EnvBootstrapToken, errOrNoKey(refused))
	}
	agentID := c.AgentID()
	if agentID == "" {
		return nil, fmt.Errorf("connect: %s, and no agent id to register (set ConnectConfig.AgentID or $%s): %w", why, EnvAgentID, ErrNoAgentID)
	}
	reg, err := c.Register(ctx, cfg.BootstrapToken.Reveal(), agentID)
	if errors.Is(err, herrors.ErrActiveKeyExists) {
		return nil, fmt.Errorf("connect: agent %s already has a live API key, but this program has none that works (%s). "+
			"The bootstrap token was not consumed: the owner revokes the live key from the dashboard, then runs this again: %w", agentID, why, err)
	}
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}

	// STEP 2: keep the key.
	if err := store.Save(ctx, reg.APIKey); err != nil {
		return c, &KeyNotSavedError{Key: reg.APIKey, Err: err}
	}
	c.log.DebugContext(ctx, "heepr: registered and saved the key", "agent", reg.AgentID, "key", reg.APIKey)
	return c, nil
}

func errOrNoKey(err error) error {
	if err != nil {
		return err
	}
	return ErrNoAPIKey
}
