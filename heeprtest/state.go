package heeprtest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/heepr/heepr-go/models"
)

// BootstrapTTL is how long a bootstrap token stays valid, as on the platform.
const BootstrapTTL = 7 * 24 * time.Hour

// defaultCadence is the poll cadence, in minutes, that skill.json advertises
// unless Cadence or SetCadence says otherwise: models.DefaultCadence, the one
// definition, in the unit of the wire.
const defaultCadence = int(models.DefaultCadence / time.Minute)

// platform is the fake's whole state. Every field is guarded by Server.mu.
type platform struct {
	agentIDs   []string // in the order added
	orderIDs   []string // in the order placed
	agents     map[string]*agent
	tokens     map[string]*token
	keys       map[string]*apiKey
	orders     map[string]*order
	files      map[string]*file
	skillFiles map[models.SkillFileName]string
	// apiPerAgent says skillFiles[API.md] is the rendered reference, with
	// agentPlaceholder for each agent's id; PublishSkill clears it.
	apiPerAgent bool
	// skillVersion counts the changes of skillFiles, so that each agent knows
	// when the file hashes it keeps are stale.
	skillVersion int
}

func newPlatform(rules, apiDoc string) platform {
	return platform{
		agents: map[string]*agent{},
		tokens: map[string]*token{},
		keys:   map[string]*apiKey{},
		orders: map[string]*order{},
		files:  map[string]*file{},
		skillFiles: map[models.SkillFileName]string{
			models.SkillFileNameSkillMD:           defaultSkill,
			models.SkillFileNameHeartbeatEventsMD: defaultHeartbeat,
			models.SkillFileNameRulesMD:           "# RULES\n\n" + rules + "\n",
			models.SkillFileNameAPIMD:             apiDoc,
		},
		apiPerAgent: true,
	}
}

type agent struct {
	registered bool // mint a key at AddAgent
	wantID     string
	id         string
	manual     bool
	cadence    int
	status     models.AgentStatus
	liveKey    string // "" when the agent has no live key
	lastPoll   time.Time
	queue      []models.EventVariant // typed events, oldest first
	// lastAnswer is the last non-empty poll answer's events, for FaultRepeatEvents.
	lastAnswer []json.RawMessage
	statuses   []StatusReport
	// hashes are the SHA-256 of the agent's skill files, as of hashesVersion
	// of platform.skillVersion (see fileHashesLocked).
	hashes        map[string]string
	hashesVersion int
}

type token struct {
	agentID string
	issued  time.Time
	used    bool
}

type keyState int

const (
	keyLive keyState = iota
	keyRevoked
	keyExpired
)

type apiKey struct {
	agentID string
	state   keyState
}

type order struct {
	o          models.Order
	events     []OrderEvent
	agentID    string
	revisions  int
	deliveries []Delivery
	declines   []Decline
	flags      []Flag
	progress   []ProgressReport
}

// Agent is an agent seeded on the fake: its id and a one-time bootstrap token
// for POST /agent/register, and, for an agent added Registered, its live API
// key. Secrets print redacted; Reveal gives them whole.
type Agent struct {
	ID             string
	BootstrapToken models.BootstrapToken
	// APIKey is the live key of an agent added with Registered, else "".
	APIKey models.APIKey
}

// AgentState is a snapshot of an agent as the platform sees it.
type AgentState struct {
	ID     string
	Status models.AgentStatus
	// LastPoll is the time of the agent's last GET /events, zero if it never polled.
	LastPoll time.Time
	// Online reports whether the agent polled within [models.OnlineWindow] of now.
	Online bool
	// LiveKey reports whether the agent has a live (not revoked, not expired) key.
	LiveKey bool
	// Cadence is the poll cadence, in minutes, its skill.json advertises.
	Cadence int
	// ContentHash is the hash of its skill package, as GET /skill answers it.
	ContentHash string
	// Queued is the number of events waiting for its next poll.
	Queued int
	// ManualAcceptance reports whether its orders wait for the owner's approval.
	ManualAcceptance bool
}

// AgentOption configures an agent added with AddAgent.
type AgentOption func(*agent)

// ManualAcceptance makes the agent's orders arrive as pending_acceptance: work
// waits for ApproveOrder (an owner_approved_order event) or DenyOrder.
func ManualAcceptance() AgentOption { return func(a *agent) { a.manual = true } }

// Registered adds the agent as if it had already registered: with a live API
// key (Agent.APIKey) and its bootstrap token spent. For tests that start from a
// running agent, and for thousands of them at once.
func Registered() AgentOption { return func(a *agent) { a.registered = true } }

// Cadence sets the poll cadence, in minutes, the agent's skill.json advertises
// (default [models.DefaultCadence], 20). The fake does not clamp it, so a test can serve an
// out-of-range value to a client.
func Cadence(minutes int) AgentOption { return func(a *agent) { a.cadence = minutes } }

// AgentID gives the agent this id rather than the next of agt_1, agt_2…
func AgentID(id string) AgentOption { return func(a *agent) { a.wantID = id } }

// AddAgent seeds an agent with a fresh bootstrap token, valid for BootstrapTTL
// from now. Ids count up from agt_1 unless AgentID gives one. It returns the
// zero Agent (and records a control Violation) when that id is taken or empty.
func (s *Server) AddAgent(opts ...AgentOption) Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &agent{cadence: defaultCadence, status: models.AgentStatusActive}
	for _, opt := range opts {
		opt(a)
	}
	if a.wantID != "" {
		if s.state.agents[a.wantID] != nil || !validAgentID(a.wantID) {
			s.controlViolation("AddAgent: agent id %q is taken or not of letters, digits, _ and -", a.wantID)
			return Agent{}
		}
		a.id = a.wantID
	} else {
		for a.id = s.nextID("agt"); s.state.agents[a.id] != nil; a.id = s.nextID("agt") {
		}
	}
	s.state.agents[a.id] = a
	s.state.agentIDs = append(s.state.agentIDs, a.id)
	out := Agent{ID: a.id, BootstrapToken: s.issueTokenLocked(a.id)}
	if a.registered {
		key := s.secret("sk_live_")
		s.state.keys[key] = &apiKey{agentID: a.id}
		a.liveKey = key
		s.state.tokens[out.BootstrapToken.Reveal()].used = true
		out.APIKey = models.APIKey(key)
	}
	return out
}

// IssueBootstrapToken mints a new bootstrap token for an agent, as an owner does
// from the dashboard after a key was revoked. Earlier tokens stay as they were.
// It returns "" (and records a control Violation) for an unknown agent.
func (s *Server) IssueBootstrapToken(agentID string) models.BootstrapToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.agents[agentID] == nil {
		s.controlViolation("IssueBootstrapToken: no agent %q", agentID)
		return ""
	}
	return s.issueTokenLocked(agentID)
}

func (s *Server) issueTokenLocked(agentID string) models.BootstrapToken {
	v := s.secret("bs_")
	s.state.tokens[v] = &token{agentID: agentID, issued: time.Now()}
	return models.BootstrapToken(v)
}

// RevokeKey revokes the agent's live key, as its owner does from the dashboard:
// requests with it answer 401 key_revoked, and the agent may register again
// with an unused bootstrap token. It reports whether there was a live key.
func (s *Server) RevokeKey(agentID string) bool { return s.endKey(agentID, keyRevoked) }

// ExpireKey expires the agent's live key: requests with it answer 401
// key_expired, and the agent may register again. It reports whether there was
// a live key.
func (s *Server) ExpireKey(agentID string) bool { return s.endKey(agentID, keyExpired) }

func (s *Server) endKey(agentID string, st keyState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.agents[agentID]
	if a == nil {
		s.controlViolation("RevokeKey/ExpireKey: no agent %q", agentID)
		return false
	}
	if a.liveKey == "" {
		return false
	}
	s.state.keys[a.liveKey].state = st
	a.liveKey = ""
	return true
}

// Reset forgets what happened on the fake, for the next scenario on a fake
// that keeps running: orders and their events, deliveries, declines, flags and
// progress, stored files, each agent's queued events and status reports, the
// request log, violations, faults and their hits, and idempotency keys. Agents
// stay, with their tokens, keys, cadence, status and last poll, so a running
// agent keeps working, and so does the skill package. Ids keep counting, so
// none is made twice in a run.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.orders = map[string]*order{}
	s.state.orderIDs = nil
	s.state.files = map[string]*file{}
	for _, a := range s.state.agents {
		a.queue, a.lastAnswer, a.statuses = nil, nil, nil
	}
	s.requests, s.violations, s.faults = nil, nil, nil
	s.faultHits = map[FaultKind]int{}
	s.idem = map[string]*idemEntry{}
}

// Agent returns a snapshot of the agent, and false when there is no such agent.
func (s *Server) Agent(agentID string) (AgentState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.agents[agentID]
	if a == nil {
		return AgentState{}, false
	}
	return AgentState{
		ID:               a.id,
		Status:           a.status,
		LastPoll:         a.lastPoll,
		Online:           !a.lastPoll.IsZero() && time.Since(a.lastPoll) < models.OnlineWindow,
		LiveKey:          a.liveKey != "",
		Cadence:          a.cadence,
		ContentHash:      s.contentHashLocked(a),
		Queued:           len(a.queue),
		ManualAcceptance: a.manual,
	}, true
}

// Agents returns the ids of every agent, in the order they were added.
func (s *Server) Agents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.agentIDs)
}

// validAgentID reports whether id can be an agent's id: it becomes a path
// segment of the API (GET /agents/{id}/skill/{file}).
func validAgentID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}
