package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// The environment variables Connect reads for the fields a ConnectConfig and
// its options leave unset. New reads none. Values are trimmed of surrounding
// white space (a secret pasted with its line break works).
const (
	EnvAPIKey         = "HEEPR_API_KEY"         // a key; tried after WithAPIKey, before the key file
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
	// AgentID is the agent's id (default: $HEEPR_AGENT_ID, else the id the
	// key file keeps beside its key).
	AgentID string
	// BootstrapToken is the one-time token, needed only when there is no
	// working key (default: $HEEPR_BOOTSTRAP_TOKEN).
	BootstrapToken models.BootstrapToken
}

// Connect returns a client ready to poll: STEP 0 to STEP 2 of the skill.
//
//  1. The key, from the first of these that holds one that works: the
//     WithAPIKey option, $HEEPR_API_KEY, the key store (the key file). Each is
//     checked with a read bound to the agent (GET /agents/{id}/skill/skill.json;
//     never GET /events, which would drain the queue): a key the platform
//     refuses (revoked, expired, unknown) makes Connect try the next source,
//     and a working key means Connect is done, the bootstrap token untouched.
//  2. A key is never paired with another agent: a key file that keeps another
//     agent's id, or a key the platform says is not this agent's, is an error
//     naming both, and that key file is never overwritten.
//  3. With no working key, Connect registers with the bootstrap token and
//     saves the new key in the store, with the agent id beside it (a file:
//     temporary file, fsync, rename, mode 0600). It spends the token only when
//     the key can be kept: the store is proven writable first
//     (KeyStoreChecker), and held locked from the first read to the save
//     (KeyStoreLocker), so that processes started together register once and
//     the others find the key. When the platform answers bootstrap_used, the
//     store is read once more before Connect gives up.
//
// Errors: every error says what is wrong, where (the key file's absolute
// path, the variable to set) and what to do, once, and keeps every reason on
// its chain: errors.Is finds herrors.ErrKeyRevoked for a refused stored key
// and herrors.ErrBootstrapUsed for the register after it. A key file that
// cannot be read, or holds no key (ErrCorruptKey), is an error and is never
// overwritten. A transient failure while checking a key returns its error
// without registering, since registering would spend the token.
// ErrActiveKeyExists (in the chain) means the agent has a live key that this
// program does not hold: the token was not consumed, and the owner must
// revoke the live key first.
//
// When register succeeded but saving failed all the same, Connect returns the
// working client together with a *KeyNotSavedError carrying the key: the token
// is spent, so do not exit on it. Log it, save the key where the error says,
// and keep going (see the example).
//
// Unset fields come from HEEPR_API_KEY, HEEPR_AGENT_ID, HEEPR_BOOTSTRAP_TOKEN
// and HEEPR_BASE_URL; options given to Connect win over the environment.
func Connect(ctx context.Context, cfg ConnectConfig, opts ...Option) (*Client, error) {
	var pre []Option
	if u := env(EnvBaseURL); u != "" {
		pre = append(pre, WithBaseURL(u))
	}
	if cfg.AgentID = strings.TrimSpace(cfg.AgentID); cfg.AgentID == "" {
		cfg.AgentID = env(EnvAgentID)
	}
	if cfg.AgentID != "" {
		pre = append(pre, WithAgentID(cfg.AgentID))
	}
	token := strings.TrimSpace(cfg.BootstrapToken.Reveal())
	tokenFrom := "ConnectConfig.BootstrapToken"
	if token == "" {
		token, tokenFrom = env(EnvBootstrapToken), "$"+EnvBootstrapToken
	}
	if strings.HasPrefix(token, "sk_") {
		return nil, connectErr(fmt.Sprintf("%s holds an API key (sk_…), not a bootstrap token (bs_…): put the key in $%s, and the token from the owner's Skill Setup in %s", tokenFrom, EnvAPIKey, tokenFrom))
	}
	store, where := cfg.KeyStore, "the key store"
	if store == nil {
		path := cfg.KeyFile
		if path == "" {
			path = DefaultKeyFile
		}
		kf := KeyFile(path)
		store, where = kf, "the key file "+kf.path()
	}
	c, err := New(append(pre, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	k := &connecting{c: c, agentID: c.AgentID(), store: store, where: where}

	// The sources, in order. A key given with WithAPIKey is in the client.
	var sources []keySource
	if key := c.APIKey(); key != "" {
		sources = append(sources, keySource{name: "WithAPIKey", key: key})
	}
	if key := env(EnvAPIKey); key != "" {
		if strings.HasPrefix(key, "bs_") {
			return nil, connectErr(fmt.Sprintf("$%s holds a bootstrap token (bs_…), not an API key (sk_…): put the token in $%s instead", EnvAPIKey, EnvBootstrapToken))
		}
		if err := checkKey(key); err != nil {
			return nil, connectErr(fmt.Sprintf("$%s is not an API key: %v", EnvAPIKey, err))
		}
		sources = append(sources, keySource{name: "$" + EnvAPIKey, key: models.APIKey(key)})
	}

	// STEP 0: a key that still works means we are done.
	for _, src := range sources {
		if done, err := k.try(ctx, src); done || err != nil {
			return k.result(done, err)
		}
	}
	// From the first read of the store to the save, no other process of this
	// agent registers: it waits, then finds the key. A lock that cannot be
	// taken (a read-only directory) is no reason to fail: the store is read
	// as it is, and CheckSave stops a register whose key could not be kept.
	if l, ok := store.(KeyStoreLocker); ok {
		unlock, err := l.LockKeyStore(ctx)
		switch {
		case err == nil:
			defer unlock()
		case ctx.Err() != nil:
			return nil, connectErr(fmt.Sprintf("waiting for %s, which another process holds while it connects: %v", where, ctx.Err()), err)
		default:
			c.log.DebugContext(ctx, "heepr: going on without the key store's lock", "error", err)
		}
	}
	stored, err := k.loadStore(ctx)
	if err != nil {
		return nil, err
	}
	if stored.key != "" {
		if done, err := k.try(ctx, keySource{name: where, key: stored.key, store: true}); done || err != nil {
			return k.result(done, err)
		}
	}

	// STEP 1: bootstrap.
	reg, err := k.register(ctx, token, tokenFrom)
	if err != nil {
		return nil, err
	}
	if reg == nil {
		return c, nil // another process registered while we waited: its key works
	}

	// STEP 2: keep the key.
	if err := k.save(ctx, reg); err != nil {
		return c, err
	}
	c.log.DebugContext(ctx, "heepr: registered and saved the key", "agent", reg.AgentID, "key", reg.APIKey, "where", where)
	return c, nil
}

// result is what Connect returns once a key worked (done) or it must stop.
func (k *connecting) result(done bool, err error) (*Client, error) {
	if done {
		return k.c, nil
	}
	return nil, err
}

// env reads a variable, trimmed: one white space rule for every secret.
func env(name string) string { return strings.TrimSpace(os.Getenv(name)) }

// keySource is a place a key came from.
type keySource struct {
	name  string // for messages: "WithAPIKey", "$HEEPR_API_KEY", "the key file /…"
	key   models.APIKey
	store bool
}

// connecting is one Connect's state.
type connecting struct {
	c       *Client
	agentID string
	store   KeyStore
	where   string
	refused []error // why each key tried did not work, in order
	reasons []string
	tried   map[models.APIKey]bool
}

// loadStore reads the store, refusing a key file of another agent.
func (k *connecting) loadStore(ctx context.Context) (storedKey, error) {
	var s storedKey
	var err error
	if kf, ok := k.store.(KeyFile); ok {
		s, err = kf.load(ctx)
	} else {
		s.key, err = k.store.Load(ctx)
	}
	for _, w := range s.warnings {
		k.c.log.WarnContext(ctx, "heepr: "+w)
	}
	if errors.Is(err, ErrNoKey) {
		return storedKey{}, nil
	}
	if err != nil {
		return storedKey{}, connectErr(fmt.Sprintf("read %s: %v (fix or remove it; Connect never overwrites a key it cannot read)", k.where, err), err)
	}
	if s.key != "" {
		if err := checkKey(s.key.Reveal()); err != nil {
			return storedKey{}, connectErr(fmt.Sprintf("%s does not hold an API key: %v", k.where, err), ErrCorruptKey)
		}
	}
	switch {
	case s.agentID == "":
	case k.agentID == "":
		k.agentID = s.agentID // the key file says whose key it keeps
		k.c.setCredentials(k.c.APIKey(), s.agentID)
	case s.agentID != k.agentID:
		return storedKey{}, connectErr(fmt.Sprintf("%s holds the key of agent %s, not of %s: give each agent its own key file (ConnectConfig.KeyFile), or set $%s=%s",
			k.where, s.agentID, k.agentID, EnvAgentID, s.agentID), ErrCrossedKey)
	}
	return s, nil
}

// ErrCrossedKey is wrapped by Connect's error when a key belongs to another
// agent than the one connecting: a key file that keeps another agent's id, or
// a key the platform refuses to read this agent's skill with (403).
var ErrCrossedKey = errors.New("the key belongs to another agent")

// try checks src's key with a read bound to the agent. It reports done when
// the key works; it returns an error when Connect must stop (a key file of
// another agent, a transient failure); else the refusal is kept and the next
// source is tried.
func (k *connecting) try(ctx context.Context, src keySource) (done bool, err error) {
	c := k.c
	if k.tried[src.key] {
		return false, nil // refused already, from another source
	}
	if k.tried == nil {
		k.tried = map[models.APIKey]bool{}
	}
	k.tried[src.key] = true
	c.setCredentials(src.key, "")
	if k.agentID != "" {
		_, err = c.SkillFile(ctx, models.SkillFileNameSkillJSON)
	} else {
		_, err = c.Skill(ctx) // no agent to bind the check to: the key alone
	}
	switch {
	case err == nil:
		c.log.DebugContext(ctx, "heepr: connected with a stored key", "source", src.name, "key", src.key)
		return true, nil
	case herrors.IsFatalAuth(err):
		k.refused = append(k.refused, err)
		k.reasons = append(k.reasons, fmt.Sprintf("the key from %s was refused (%s)", src.name, platformSays(err)))
	case errors.Is(err, herrors.ErrForbidden):
		msg := fmt.Sprintf("the key from %s is not agent %s's (%s)", src.name, k.agentID, platformSays(err))
		if src.store {
			// Registering would overwrite another agent's key: stop here.
			return false, connectErr(msg+": give each agent its own key file (ConnectConfig.KeyFile), or set $"+EnvAgentID+" to the agent this key belongs to", ErrCrossedKey, err)
		}
		k.refused = append(k.refused, ErrCrossedKey, err)
		k.reasons = append(k.reasons, msg)
	case errors.Is(err, herrors.ErrNotFound):
		return false, connectErr(fmt.Sprintf("the platform has no agent %s (%s): check $%s or ConnectConfig.AgentID", k.agentID, platformSays(err), EnvAgentID), err)
	default:
		return false, connectErr(fmt.Sprintf("check the key from %s: %v (not registering, which would spend the bootstrap token: try again when the platform answers)", src.name, err), err)
	}
	c.setCredentials("", "")
	return false, nil
}

// register spends the token, once the store is proven able to keep the key.
// A nil registration and nil error mean another process registered while
// this one waited, and its key works.
func (k *connecting) register(ctx context.Context, token, tokenFrom string) (*models.Registration, error) {
	c := k.c
	why := "no API key given (WithAPIKey, $" + EnvAPIKey + ") and no stored API key in " + k.where
	if len(k.reasons) > 0 {
		why = strings.Join(k.reasons, "; ")
	}
	if token == "" {
		what := "set $" + EnvBootstrapToken + " (or ConnectConfig.BootstrapToken) to the token from the owner's Skill Setup to register"
		if len(k.refused) > 0 {
			what = "the owner revoked or rotated it, or it is not this agent's: " + what + " again"
		} else if k.agentID == "" {
			what = "for a first run set $" + EnvAgentID + " and $" + EnvBootstrapToken + " (from the owner's Skill Setup); or give the key in $" + EnvAPIKey
		}
		return nil, connectErr(why+", and no bootstrap token: "+what, k.refused...)
	}
	if k.agentID == "" {
		return nil, connectErr(why+", and no agent id to register: set $"+EnvAgentID+" (or ConnectConfig.AgentID)", append(k.refused, ErrNoAgentID)...)
	}
	if chk, ok := k.store.(KeyStoreChecker); ok {
		if err := chk.CheckSave(ctx); err != nil {
			return nil, connectErr(fmt.Sprintf("%s, and %v: make it writable before registering (the bootstrap token is not spent)", why, err), append(k.refused, err)...)
		}
	}
	reg, err := c.Register(ctx, models.BootstrapToken(token), k.agentID)
	switch {
	case err == nil:
		return reg, nil
	case errors.Is(err, herrors.ErrActiveKeyExists):
		return nil, connectErr(fmt.Sprintf("%s; agent %s already has a live API key that this program does not hold (%s). "+
			"The bootstrap token was not consumed: the owner revokes the live key from the dashboard, then run this again", why, k.agentID, platformSays(err)), append(k.refused, err)...)
	case errors.Is(err, herrors.ErrBootstrapUsed):
		// Another process may have registered and saved meanwhile.
		if s, lerr := k.loadStore(ctx); lerr == nil && s.key != "" {
			if done, _ := k.try(ctx, keySource{name: k.where, key: s.key, store: true}); done {
				return nil, nil
			}
		}
		return nil, connectErr(fmt.Sprintf("%s; the bootstrap token from %s was already used (%s), and %s holds no key that works: "+
			"the owner revokes the agent's key if it has one, and issues a new token from the Skill Setup", why, tokenFrom, platformSays(err), k.where), append(k.refused, err)...)
	case errors.Is(err, herrors.ErrBootstrapExpired):
		return nil, connectErr(fmt.Sprintf("%s; the bootstrap token from %s expired (%s): the owner issues a new one from the Skill Setup", why, tokenFrom, platformSays(err)), append(k.refused, err)...)
	case errors.Is(err, herrors.ErrBootstrapUnknown):
		return nil, connectErr(fmt.Sprintf("%s; the platform does not know the bootstrap token from %s for agent %s (%s): copy it again, whole, from the owner's Skill Setup for this agent", why, tokenFrom, k.agentID, platformSays(err)), append(k.refused, err)...)
	default:
		return nil, connectErr(fmt.Sprintf("%s; registering failed: %v", why, err), append(k.refused, err)...)
	}
}

// save keeps the new key, with its agent id where the store can.
func (k *connecting) save(ctx context.Context, reg *models.Registration) error {
	var err error
	if kf, ok := k.store.(KeyFile); ok {
		err = kf.save(ctx, reg.AgentID, reg.APIKey)
	} else {
		err = k.store.Save(ctx, reg.APIKey)
	}
	if err != nil {
		where := "the key store"
		if kf, ok := k.store.(KeyFile); ok {
			where = kf.path()
		}
		return &KeyNotSavedError{Key: reg.APIKey, AgentID: reg.AgentID, Where: where, Err: err}
	}
	return nil
}

// platformSays is the platform's refusal, as its *herrors.APIError says it.
func platformSays(err error) string {
	if apiErr, ok := errors.AsType[*herrors.APIError](err); ok {
		return strings.TrimPrefix(apiErr.Error(), "heepr: ")
	}
	return err.Error()
}

// connectError is Connect's error: one message that says it all once, and
// every reason on its chain for errors.Is and errors.As.
type connectError struct {
	msg  string
	errs []error
}

func connectErr(msg string, errs ...error) error {
	if msg == "" && len(errs) == 1 {
		msg = errs[0].Error()
	}
	return &connectError{msg: msg, errs: errs}
}

func (e *connectError) Error() string   { return "connect: " + e.msg }
func (e *connectError) Unwrap() []error { return e.errs }
