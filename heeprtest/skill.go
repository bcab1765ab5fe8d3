package heeprtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"

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

// skillOrder is the order the package's files are hashed in.
var skillOrder = [...]models.SkillFileName{
	models.SkillFileNameSkillMD,
	models.SkillFileNameHeartbeatEventsMD,
	models.SkillFileNameRulesMD,
	models.SkillFileNameAPIMD,
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
// when the platform ships a new SKILL.md, and so every content_hash. A
// published API.md is served verbatim to every agent, in place of the one the
// fake writes for each from openapi.yaml. skill.json cannot be published: the
// fake writes it from the other files and the cadence.
// It reports whether the file was replaced.
func (s *Server) PublishSkill(file models.SkillFileName, body string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state.skillFiles[file]; !ok {
		s.controlViolation("PublishSkill: %q is not a Markdown file of the package", file)
		return false
	}
	s.state.skillFiles[file] = body
	s.state.skillVersion++
	if file == models.SkillFileNameAPIMD {
		s.state.apiPerAgent = false
	}
	return true
}

// skillFileLocked returns a Markdown file of a's package, and whether the
// package has it. API.md is written for each agent, its id in the paths.
func (s *Server) skillFileLocked(a *agent, name models.SkillFileName) (string, bool) {
	body, ok := s.state.skillFiles[name]
	if ok && name == models.SkillFileNameAPIMD && s.state.apiPerAgent {
		body = strings.ReplaceAll(body, agentPlaceholder, a.id)
	}
	return body, ok
}

func (s *Server) manifestLocked(a *agent) models.SkillManifest {
	return models.SkillManifest{AgentID: a.id, PollIntervalMinutes: a.cadence, Files: maps.Clone(s.fileHashesLocked(a))}
}

// fileHashesLocked returns the hex SHA-256 of each Markdown file of a's
// package, computed once per agent and version of the package: API.md is some
// 20 KB written for each agent, and GET /skill, which agents call every tick,
// would otherwise render and hash it each time under the lock.
func (s *Server) fileHashesLocked(a *agent) map[string]string {
	if a.hashes == nil || a.hashesVersion != s.state.skillVersion {
		a.hashes = make(map[string]string, len(skillOrder))
		for _, name := range skillOrder {
			body, _ := s.skillFileLocked(a, name)
			sum := sha256.Sum256([]byte(body))
			a.hashes[string(name)] = hex.EncodeToString(sum[:])
		}
		a.hashesVersion = s.state.skillVersion
	}
	return a.hashes
}

// contentHashLocked hashes the whole package: skill.json, which holds the hash
// of every other file, so that a change of any file changes it, and so does a
// change of cadence. It is the bare hex SHA-256, as the spec writes every hash.
func (s *Server) contentHashLocked(a *agent) string {
	manifest, _ := json.Marshal(s.manifestLocked(a)) // a map and scalars: cannot fail
	sum := sha256.Sum256(manifest)
	return hex.EncodeToString(sum[:])
}
