package main

// The two compatibility gates (CONTRIBUTING.md states them for people):
//
//  1. API: api/<module>.txt must equal the module's exported API as written now
//     (so a change to an export lands with its snapshot, in the same commit).
//     Every package whose API differs from the last release's snapshot
//     (api/<version>/<module>.txt, version = the CHANGELOG's newest release)
//     must be named in the CHANGELOG's [Unreleased] section: a package that
//     existed at the release by one of its changed declarations, written
//     `pkg.Name` (or `Type.Method` for a method); a package new or gone since
//     the release by its directory in backticks (`otel`, `river/store`) or any
//     of its declarations.
//  2. Spec: every error-level finding of `oasdiff breaking` of
//     api/<version>/openapi.yaml against openapi.yaml must be named in
//     [Unreleased] by its operation in backticks, as oasdiff prints it:
//     `GET /skill`.
//
// Modules are every go.mod under the repository outside hidden directories
// (.ci's tool modules are not public) and node_modules.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

type module struct {
	dir  string // relative to the repository, "." for the root
	file string // snapshot file name
}

func modules(repo string) ([]module, error) {
	var mods []module
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		rel, _ := filepath.Rel(repo, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		name := "heepr-go"
		if rel != "." {
			name = strings.ReplaceAll(rel, "/", "-")
		}
		mods = append(mods, module{dir: rel, file: name + ".txt"})
		return nil
	})
	return mods, err
}

var releaseRE = regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`)

// changelog returns the text of the [Unreleased] section and the newest release.
func changelog(repo string) (unreleased, version string, err error) {
	b, err := os.ReadFile(filepath.Join(repo, "CHANGELOG.md"))
	if err != nil {
		return "", "", err
	}
	s := string(b)
	i := strings.Index(s, "## [Unreleased]")
	if i < 0 {
		return "", "", fmt.Errorf("CHANGELOG.md has no ## [Unreleased] section")
	}
	m := releaseRE.FindStringSubmatchIndex(s)
	if m == nil || m[0] < i {
		return "", "", fmt.Errorf("CHANGELOG.md has no release below ## [Unreleased]")
	}
	return s[i:m[0]], s[m[2]:m[3]], nil
}

func check(repo, mode string) int {
	failed := false
	fail := func(format string, a ...any) {
		failed = true
		fmt.Fprintf(os.Stderr, "compat: "+format+"\n", a...)
	}
	mods, err := modules(repo)
	if err != nil {
		fail("%v", err)
		return 1
	}
	unreleased, version, err := changelog(repo)
	if err != nil {
		fail("%v", err)
		return 1
	}
	apiDir := filepath.Join(repo, "api")
	relDir := filepath.Join(apiDir, version)

	current := map[string][]string{}
	for _, m := range mods {
		lines, err := snapshot(filepath.Join(repo, m.dir), m.dir)
		if err != nil {
			fail("%s: %v", m.dir, err)
			return 1
		}
		current[m.file] = lines
	}

	switch mode {
	case "-update", "-release":
		dirs := []string{apiDir}
		if mode == "-release" {
			dirs = append(dirs, relDir)
		}
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				fail("%v", err)
				return 1
			}
			for _, m := range mods {
				if err := os.WriteFile(filepath.Join(d, m.file), join(current[m.file]), 0o644); err != nil {
					fail("%v", err)
					return 1
				}
			}
		}
		if mode == "-release" {
			spec, err := os.ReadFile(filepath.Join(repo, "openapi.yaml"))
			if err == nil {
				err = os.WriteFile(filepath.Join(relDir, "openapi.yaml"), spec, 0o644)
			}
			if err != nil {
				fail("%v", err)
				return 1
			}
			fmt.Printf("compat: wrote api/*.txt and api/%s/ (the %s release's snapshots and spec)\n", version, version)
		} else {
			fmt.Println("compat: wrote api/*.txt; name each change in CHANGELOG.md's [Unreleased]")
		}
		return 0
	case "":
	default:
		fail("unknown flag %q (want -update or -release)", mode)
		return 2
	}

	// Gate 1a: the committed snapshot is the API as written.
	for _, m := range mods {
		committed, err := os.ReadFile(filepath.Join(apiDir, m.file))
		if err != nil {
			fail("module %s has no snapshot api/%s: run `bash .ci/compat -update` and commit it", m.dir, m.file)
			continue
		}
		if !bytes.Equal(committed, join(current[m.file])) {
			fail("module %s: its exported API differs from api/%s:\n%s\nrun `bash .ci/compat -update`, commit the snapshot with the change, and name it in CHANGELOG.md's [Unreleased]",
				m.dir, m.file, diff(split(committed), current[m.file]))
		}
	}

	// Gate 1b: what changed since the release is named in [Unreleased].
	for _, m := range mods {
		var released []string
		if b, err := os.ReadFile(filepath.Join(relDir, m.file)); err == nil {
			released = split(b)
		} else if !os.IsNotExist(err) {
			fail("%v", err)
		}
		for pkg, ch := range changes(repo, released, current[m.file]) {
			dir := pkg
			if named(unreleased, ch.keys) {
				continue
			}
			if (ch.new || ch.gone) && strings.Contains(unreleased, "`"+dir+"`") {
				continue
			}
			want := "one of " + strings.Join(quote(ch.keys), ", ")
			if ch.new || ch.gone {
				want = "`" + dir + "` or " + want
			}
			fail("package %s changed its exported API since %s, and CHANGELOG.md's [Unreleased] names none of it; name %s:\n%s",
				dir, version, want, strings.Join(ch.lines, "\n"))
		}
	}

	// Gate 2: every breaking change of the spec since the release is named.
	base := filepath.Join(relDir, "openapi.yaml")
	if _, err := os.Stat(base); err != nil {
		fail("no released spec %s: run `bash .ci/compat -release` when cutting a release", base)
	} else {
		breaks, err := oasdiff(repo, base, filepath.Join(repo, "openapi.yaml"))
		if err != nil {
			fail("oasdiff: %v", err)
		}
		for _, b := range breaks {
			op := strings.TrimSpace(b.Operation + " " + b.Path)
			if b.Level < 3 {
				fmt.Fprintf(os.Stderr, "compat: warning (not gated): %s: %s\n", op, b.Text)
				continue
			}
			if strings.Contains(unreleased, "`"+op+"`") {
				continue
			}
			fail("openapi.yaml breaks %s since %s [%s]: %s\nname `%s` in CHANGELOG.md's [Unreleased]", op, version, b.ID, b.Text, op)
		}
	}

	if failed {
		return 1
	}
	fmt.Printf("compat: the API of %d module(s) and openapi.yaml match their snapshots, and [Unreleased] names every change since %s\n", len(mods), version)
	return 0
}

type finding struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Level     int    `json:"level"`
	Operation string `json:"operation"`
	Path      string `json:"path"`
}

// oasdiff runs the oasdiff this module pins (go.mod's tool line).
func oasdiff(repo, base, rev string) ([]finding, error) {
	self, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "tool", "oasdiff", "breaking", base, rev, "-f", "json")
	cmd.Dir = self
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var fs []finding
	if err := json.Unmarshal(out, &fs); err != nil {
		return nil, fmt.Errorf("reading its JSON: %v", err)
	}
	return fs, nil
}

type pkgChange struct {
	keys      []string // `pkg.Name` or `Type.Method` of each changed declaration
	lines     []string // the diff, "- old" and "+ new"
	new, gone bool     // the package is absent from one side
}

func changes(repo string, old, cur []string) map[string]*pkgChange {
	oldSet, curSet := set(old), set(cur)
	oldPkgs, curPkgs := map[string]bool{}, map[string]bool{}
	for l := range oldSet {
		oldPkgs[pkgOf(l)] = true
	}
	for l := range curSet {
		curPkgs[pkgOf(l)] = true
	}
	out := map[string]*pkgChange{}
	note := func(l, sign string) {
		p := pkgOf(l)
		c := out[p]
		if c == nil {
			c = &pkgChange{new: !oldPkgs[p], gone: !curPkgs[p]}
			out[p] = c
		}
		c.lines = append(c.lines, sign+" "+l)
		k := key(pkgName(repo, p), strings.TrimPrefix(l, p+": "))
		for _, have := range c.keys {
			if have == k {
				return
			}
		}
		c.keys = append(c.keys, k)
	}
	for _, l := range old {
		if !curSet[l] {
			note(l, "-")
		}
	}
	for _, l := range cur {
		if !oldSet[l] {
			note(l, "+")
		}
	}
	return out
}

func pkgOf(line string) string { return line[:strings.Index(line, ": ")] }

var (
	methodRE = regexp.MustCompile(`^func \(\w*\s*\*?(\w+)[^)]*\) (\w+)`)
	declRE   = regexp.MustCompile(`^(?:func|type|var|const) (\w+)`)
)

// pkgName is the name in the package clause of the package in dir, or the
// directory's last element for a package that is gone.
func pkgName(repo, dir string) string {
	if bp, err := build.ImportDir(filepath.Join(repo, dir), 0); err == nil && bp.Name != "" {
		return bp.Name
	}
	return path.Base(dir)
}

// key is how a CHANGELOG names a declaration: `client.New`, `Client.Connect`.
func key(name, decl string) string {
	if m := methodRE.FindStringSubmatch(decl); m != nil {
		return m[1] + "." + m[2]
	}
	if m := declRE.FindStringSubmatch(decl); m != nil {
		return name + "." + m[1]
	}
	return name
}

func named(text string, keys []string) bool {
	for _, k := range keys {
		if strings.Contains(text, k) {
			return true
		}
	}
	return false
}

func quote(keys []string) []string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = "`" + k + "`"
	}
	if len(q) > 8 {
		q = append(q[:8], fmt.Sprintf("(and %d more)", len(keys)-8))
	}
	return q
}

func set(lines []string) map[string]bool {
	m := make(map[string]bool, len(lines))
	for _, l := range lines {
		m[l] = true
	}
	return m
}

func join(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func split(b []byte) []string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func diff(old, cur []string) string {
	oldSet, curSet := set(old), set(cur)
	var d []string
	for _, l := range old {
		if !curSet[l] {
			d = append(d, "- "+l)
		}
	}
	for _, l := range cur {
		if !oldSet[l] {
			d = append(d, "+ "+l)
		}
	}
	sort.SliceStable(d, func(i, j int) bool { return d[i][2:] < d[j][2:] })
	return strings.Join(d, "\n")
}
