#!/usr/bin/env bash
# A throwaway module that imports the SDK as an agent author would, to prove
# what an importer pays: the packages its binary compiles must hold no
# kin-openapi, testify or generator code, and its module graph no generator.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/go.mod" <<MOD
module example.com/consumer

go 1.26

require github.com/heepr/heepr-go v0.0.0

replace github.com/heepr/heepr-go => $root
MOD
# The SDK's go.sum covers every module the consumer can need, so nothing is
# looked up on the network.
cp "$root/go.sum" "$tmp/go.sum"
cat > "$tmp/main.go" <<'GO'
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

func main() {
	c, err := client.New(client.WithAPIKey("sk_live_example0000"))
	if err != nil {
		panic(err)
	}
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error { return nil },
	})
	fmt.Println(p != nil, err, errors.Is(err, herrors.ErrKeyRevoked))
}
GO
cd "$tmp"
GOFLAGS=-mod=mod go mod tidy
go build -o /dev/null .
deps=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' .)
bad=$(echo "$deps" | grep -E 'getkin/kin-openapi|stretchr/testify|oapi-codegen/oapi-codegen|honnef.co|go.uber.org/goleak' || true)
if [ -n "$bad" ]; then
	echo "FAIL: the consumer's binary compiles test or generator code:"; echo "$bad"; exit 1
fi
mods=$(go list -m all)
if echo "$mods" | grep -qE 'oapi-codegen/oapi-codegen|honnef.co/go/tools'; then
	echo "FAIL: the generator reached the consumer's module graph:"; echo "$mods"; exit 1
fi
echo "consumer builds; packages outside the standard library it compiles:"
echo "$deps" | sed 's/^/  /'
echo "modules in its graph (go list -m all): $(echo "$mods" | wc -l)"
