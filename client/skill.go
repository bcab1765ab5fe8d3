package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// DefaultPollIntervalMinutes is the cadence skill.json means when it names
// none, in the unit of the wire: [models.DefaultCadence], the one definition,
// in whole minutes.
const DefaultPollIntervalMinutes = int(models.DefaultCadence / time.Minute)

// Skill returns the current SKILL.md and the content hash of the whole skill
// package, which changes whenever any file of it does (skill.json included).
// It is read-only: it never drains the event queue, which is why Connect
// validates a stored key with it.
func (c *Client) Skill(ctx context.Context, opts ...CallOption) (*models.Skill, error) {
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("skill: %w", err)
	}
	var s models.Skill
	err = c.invoke(ctx, cc, OperationGetSkill, "", func(ctx context.Context, cc callConfig) error {
		req, err := raw.NewGetSkillRequest(c.server)
		if err != nil {
			return err
		}
		return c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
			s = models.Skill{} // a retried attempt starts afresh
			return decodeJSON(res, &s, c.maxBody)
		})
	})
	if err = end(err); err != nil {
		return nil, fmt.Errorf("skill: %w", err)
	}
	return &s, nil
}

// SkillFile returns the bytes of one file of the agent's skill package
// (SKILL.md, HEARTBEAT_EVENTS.md, RULES.md, API.md or skill.json), at most
// [WithMaxResponseBytes] of them, and only bytes it has checked. It needs the
// agent id ([ErrNoAgentID]).
//
// It asks for the file's media type (Accept: text/markdown for a .md file,
// application/json for skill.json) and refuses an answer of another one; a
// Markdown file may also come as text/plain. Every file but skill.json is
// checked against its SHA-256 in skill.json, which SkillFile reads first, so
// such a call makes two requests. A wrong media type, a file that does not
// match its hash, or one skill.json gives no hash for is an error wrapping
// [herrors.ErrInvalidResponse] that names the file, and is not retried: when
// the package changed between the two reads, call again. To keep a verified
// copy of the whole package on disk, use [Client.SyncSkill].
func (c *Client) SkillFile(ctx context.Context, name models.SkillFileName, opts ...CallOption) ([]byte, error) {
	if err := checkPathID("skill file name", string(name)); err != nil {
		return nil, fmt.Errorf("skill file: %w", err)
	}
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("skill file %s: %w", name, err)
	}
	b, err := c.skillFile(ctx, name, cc)
	if err = end(err); err != nil {
		return nil, fmt.Errorf("skill file %s: %w", name, err)
	}
	return b, nil
}

func (c *Client) skillFile(ctx context.Context, name models.SkillFileName, cc callConfig) ([]byte, error) {
	if name == models.SkillFileNameSkillJSON {
		return c.fetchSkillFile(ctx, string(name), cc, nil)
	}
	m, _, err := c.manifest(ctx, cc)
	if err != nil {
		return nil, err
	}
	want, err := wantSHA256(m, string(name))
	if err != nil {
		return nil, err
	}
	return c.fetchSkillFile(ctx, string(name), cc, hashCheck(string(name), want))
}

// SkillManifest returns skill.json, typed: the owner's poll cadence and a
// SHA-256 per file. A manifest that names no cadence gets
// [DefaultPollIntervalMinutes]; one out of the range 1 to 60 is returned as it
// came (the poller clamps it). An answer that is not application/json, or not
// a JSON object, is an error wrapping [herrors.ErrInvalidResponse].
func (c *Client) SkillManifest(ctx context.Context, opts ...CallOption) (*models.SkillManifest, error) {
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("skill file skill.json: %w", err)
	}
	m, _, err := c.manifest(ctx, cc)
	if err = end(err); err != nil {
		return nil, fmt.Errorf("skill file skill.json: %w", err)
	}
	return m, nil
}

// manifest reads skill.json: typed, and its bytes as they came (SyncSkill
// writes those, not a re-encoding).
func (c *Client) manifest(ctx context.Context, cc callConfig) (*models.SkillManifest, []byte, error) {
	var m models.SkillManifest
	b, err := c.fetchSkillFile(ctx, string(models.SkillFileNameSkillJSON), cc, func(res *http.Response, b []byte) error {
		m = models.SkillManifest{} // a retried attempt starts afresh
		if err := json.Unmarshal(b, &m); err != nil {
			return herrors.NewInvalidResponse(res, "skill.json is not a skill manifest: "+err.Error())
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if m.PollIntervalMinutes == 0 {
		m.PollIntervalMinutes = DefaultPollIntervalMinutes
	}
	return &m, b, nil
}

// fetchSkillFile is one GET of a file of the package, its media type checked
// and then, when check is not nil, its bytes. Both checks run inside the
// attempt, so that their errors (InvalidResponseError, permanent) are not
// retried and carry the answer's status and request id.
func (c *Client) fetchSkillFile(ctx context.Context, name string, cc callConfig, check func(*http.Response, []byte) error) ([]byte, error) {
	agentID := c.AgentID()
	if agentID == "" {
		return nil, ErrNoAgentID
	}
	if err := checkPathID("skill file name", name); err != nil {
		return nil, err
	}
	var out []byte
	err := c.invoke(ctx, cc, OperationGetSkillFile, "", func(ctx context.Context, cc callConfig) error {
		req, err := raw.NewGetSkillFileRequest(c.server, agentID, models.SkillFileName(name))
		if err != nil {
			return err
		}
		accept, takes := skillMediaTypes(name)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
			if err := checkMediaType(res, name, takes); err != nil {
				return err
			}
			b, err := readAll(res, c.maxBody)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(res, b); err != nil {
					return err
				}
			}
			out = b
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// skillMediaTypes is the Accept the client sends for a file of the package and
// the media types it takes back, by the file's name as the spec serves it:
// Markdown as text/markdown (text/plain is Markdown too, as a static file
// server may label it), skill.json as application/json. A file of another
// kind, which a later package may add, is taken as whatever it comes as: its
// SHA-256 still vouches for its bytes.
func skillMediaTypes(name string) (accept string, takes []string) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".md"):
		return "text/markdown", []string{"text/markdown", "text/plain"}
	case strings.HasSuffix(lower, ".json"):
		return "application/json", []string{"application/json"}
	}
	return "", nil
}

// checkMediaType refuses an answer whose Content-Type (its media type, the
// parameters ignored) is none of takes. An empty takes takes anything.
func checkMediaType(res *http.Response, name string, takes []string) error {
	if len(takes) == 0 {
		return nil
	}
	want := strings.Join(takes, " or ")
	ct := res.Header.Get("Content-Type")
	if ct == "" {
		return herrors.NewInvalidResponse(res, fmt.Sprintf("%s came with no Content-Type, want %s", name, want))
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return herrors.NewInvalidResponse(res, fmt.Sprintf("%s came with an unreadable Content-Type %q (%v), want %s", name, ct, err, want))
	}
	for _, t := range takes {
		if mt == t {
			return nil
		}
	}
	return herrors.NewInvalidResponse(res, fmt.Sprintf("%s came as %s, want %s: is the base URL the heepr API, and not a proxy's or a login page?", name, mt, want))
}

// wantSHA256 is the SHA-256 skill.json gives for name.
func wantSHA256(m *models.SkillManifest, name string) ([sha256.Size]byte, error) {
	var want [sha256.Size]byte
	s, ok := m.Files[name]
	if !ok {
		return want, herrors.NewInvalidResponse(nil, fmt.Sprintf("skill.json has no SHA-256 for %s, so the file cannot be checked", name))
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return want, herrors.NewInvalidResponse(nil, fmt.Sprintf("skill.json's SHA-256 for %s is not 64 hex digits (%.20q), so the file cannot be checked", name, s))
	}
	copy(want[:], b)
	return want, nil
}

// hashCheck is a check for fetchSkillFile: the bytes hash to want.
func hashCheck(name string, want [sha256.Size]byte) func(*http.Response, []byte) error {
	return func(res *http.Response, b []byte) error {
		if got := sha256.Sum256(b); got != want {
			return herrors.NewInvalidResponse(res, fmt.Sprintf("%s does not match its SHA-256 in skill.json (%x…, skill.json says %x…): if the package changed between the two reads, read it again",
				name, got[:6], want[:6]))
		}
		return nil
	}
}
