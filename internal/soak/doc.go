// Package soak holds the SDK's soak test (internal: it exports nothing and is
// not part of the public package list): hundreds of agents, each with its own
// client, poller and journal, living hours of fake time against one heeprtest
// platform that fails at random (seeded), while orders, revisions, scope
// changes, approvals and denials arrive. It has no code of its own; run it with
//
//	go test ./internal/soak -run TestSoak -v                     # the bounded default CI runs
//	go test ./internal/soak -run TestSoak -v -soak.hours=24 -soak.agents=500
//	go test ./internal/soak -run TestSoak -soak.seed=<seed>      # replay a failure
package soak
