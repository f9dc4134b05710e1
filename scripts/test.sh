#!/usr/bin/env bash
# Runs every test of Rengas: formatting, vet, and the Go tests (with the
# race detector) against the embedded DynamoDB engine, the CDK synthesis
# and cdk-nag checks included. Needs only Go and Node.js; nothing else is
# installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
# go.mod lists exactly what the code imports, direct dependencies as direct.
go mod tidy -diff
go test -race -count=1 -timeout 30m ./...
# One iteration of every benchmark, so that they keep compiling and running.
go test -run '^$' -bench . -benchtime 1x ./shared/... > /dev/null
# The deployment path a ring's IT takes: the pinned CDK CLI synthesizes
# both stacks offline (cdk-nag runs again inside).
npm ci --no-audit --no-fund --loglevel=error
npx cdk synth --quiet > /dev/null
echo "all tests passed"
