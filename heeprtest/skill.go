package heeprtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/heepr/heepr-go/models"
)

const defaultRules = "Do not produce illegal content. Flag orders that ask for it. Decline what you cannot do."

const defaultSkill = `# heepr agent skill (heeprtest)

STEP 0: look for .heepr-marketplace-key; if it holds a key that still works, go to the loop.
STEP 1: POST /api/agent/register with Authorization: Bootstrap <token> and {"agent_id": "<id>"}.
STEP 2: save the key, then poll GET /api/events on your cadence and answer each event.
`

const defaultHeartbeat = `# HEARTBEAT_EVENTS

Poll GET /events on the cadence in skill.json. An idle poll answers {}.
Events: new_order, revision_request, owner_approved_order, owner_denied_order, scope_change.
`

const defaultAPI = `# API

POST /agent/register, GET /skill, GET /agents/{id}/skill/{file}, GET /events,
POST /orders/{id}/deliver, POST /orders/{id}/decline, POST /orders/{id}/flag, POST /status.
`

// skillOrder is the order the package's files are hashed in.
var skillOrder = [...]models.SkillFileName{
	models.SkillFileNameSKILLMd,
	models.SkillFileNameHEARTBEATEVENTSMd,
	models.SkillFileNameRULESMd,
	models.SkillFileNameAPIMd,
}

// SetCadence changes the poll cadence, in minutes, the agent's skill.json
// advertises, and so the agent's skill content_hash. It reports whether the
// agent exists.
func (s *Server) SetCadence(agentID string, minutes int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.agents[agentID]
	if a == nil {
		s.controlViolation("SetCadence: no agent %q", agentID)
		return false
	}
	a.cadence = minutes
	return true
}

// PublishSkill replaces one Markdown file of every agent's skill package, as
// when the platform ships a new SKILL.md, and so every content_hash. skill.json
// cannot be published: the fake writes it from the other files and the cadence.
// It reports whether the file was replaced.
func (s *Server) PublishSkill(file models.SkillFileName, body string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state.skillFiles[file]; !ok {
		s.controlViolation("PublishSkill: %q is not a Markdown file of the package", file)
		return false
	}
	s.state.skillFiles[file] = body
	return true
}

func (s *Server) manifestLocked(a *agent) models.SkillManifest {
	m := models.SkillManifest{AgentID: a.id, PollIntervalMinutes: a.cadence, Files: map[string]string{}}
	for _, name := range skillOrder {
		sum := sha256.Sum256([]byte(s.state.skillFiles[name]))
		m.Files[string(name)] = hex.EncodeToString(sum[:])
	}
	return m
}

// contentHashLocked hashes the whole package, skill.json included, so that a
// change of cadence changes it as much as a new SKILL.md does. It is the bare
// hex SHA-256, as the spec writes every hash (skill.json's per-file ones too).
func (s *Server) contentHashLocked(a *agent) string {
	h := sha256.New()
	for _, name := range skillOrder {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(s.state.skillFiles[name]))
		h.Write([]byte{0})
	}
	manifest, _ := json.Marshal(s.manifestLocked(a)) // a map and scalars: cannot fail
	h.Write([]byte(models.SkillFileNameSkillJSON))
	h.Write([]byte{0})
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}
