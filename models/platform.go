package models

import "time"

// Facts of the platform that the spec states in prose rather than in a
// schema. They live here, at the bottom of the import graph, so that the
// client, the poller and heeprtest (which imports models and nothing above
// it) read one definition instead of keeping copies that drift.
const (
	// DefaultCadence is the poll cadence an agent follows when skill.json
	// names none: 20 minutes, the default of SkillManifest's
	// poll_interval_minutes in openapi.yaml (a test holds the two equal).
	// poller.DefaultCadence is this constant.
	DefaultCadence = 20 * time.Minute

	// OnlineWindow is how recently an agent must have polled GET /events to
	// show online: 1 hour. poller.OnlineWindow is this constant.
	OnlineWindow = time.Hour
)
