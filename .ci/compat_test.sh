#!/usr/bin/env bash
# Proves the compatibility gates bite: in a scratch copy of the tree it breaks
# an export, a spec field, and adds a module, and expects .ci/compat to fail
# until the snapshot is updated AND CHANGELOG.md's [Unreleased] names the
# change; on the clean copy it expects a pass. .ci/run runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
# The tree as it stands (committed or not, ignored files left out).
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tmp" 2>/dev/null || true
cd "$tmp"

n=0
pass() { n=$((n+1)); if ! out=$(bash .ci/compat 2>&1); then echo "$out"; echo "FAIL: $1: .ci/compat failed, want a pass" >&2; exit 1; fi; echo "  ok: $1 (passes)"; }
fails() { n=$((n+1)); if out=$(bash .ci/compat 2>&1); then echo "$out"; echo "FAIL: $1: .ci/compat passed, want a failure" >&2; exit 1; fi
	grep -q -- "$2" <<<"$out" || { echo "$out"; echo "FAIL: $1: the failure does not say \"$2\"" >&2; exit 1; }
	echo "  ok: $1 (fails: $2)"; }
unreleased() { # add a line under ## [Unreleased]
	awk -v line="$1" '{print} /^## \[Unreleased\]$/ {print ""; print line}' CHANGELOG.md > CHANGELOG.tmp && mv CHANGELOG.tmp CHANGELOG.md; }

pass "the clean tree"

# An export goes away: the snapshot no longer matches, then [Unreleased] must say so.
sed -i 's/^func OpenAPI() /func openAPI() /' spec.go
grep -q '^func openAPI() ' spec.go
fails "an export removed" "exported API differs from api/heepr-go.txt"
bash .ci/compat -update >/dev/null
fails "the snapshot updated, the CHANGELOG silent" "names none of it; name .*heepr.OpenAPI"
unreleased '- `heepr.OpenAPI` is gone.'
pass "the snapshot updated and the CHANGELOG naming it"

# A spec field breaks: a required response property becomes optional.
sed -i 's/required: \[body, content_hash\]/required: [body]/' openapi.yaml
grep -q 'required: \[body\]$' openapi.yaml
fails "a response field made optional" 'openapi.yaml breaks GET /skill'
unreleased '- Wire: `GET /skill` may leave out `content_hash`.'
pass "the spec break named in [Unreleased]"

# A new module (as otel/ and river/ will be) is picked up with no edit to the gate.
mkdir -p newmod
printf 'module github.com/heepr/heepr-go/newmod\n\ngo 1.26.0\n' > newmod/go.mod
printf '// Package newmod is a stand-in.\npackage newmod\n\n// Hello is exported.\nfunc Hello() {}\n' > newmod/newmod.go
fails "a module without a snapshot" "has no snapshot api/newmod.txt"
bash .ci/compat -update >/dev/null
fails "a new module's snapshot, the CHANGELOG silent" "package newmod changed"
unreleased '- `newmod`: a new module.'
pass "a new module named in [Unreleased]"

echo "compat gates: $n cases ok"
