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
# The pages' browser journeys run in Debian's Chromium with axe-core (pinned
# in package.json); they skip only where no Chromium can be installed.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
go test -race -count=1 -timeout 30m ./...
# One iteration of every benchmark, so that they keep compiling and running.
go test -run '^$' -bench . -benchtime 1x ./shared/... > /dev/null
# The deployment path a ring's IT takes: the pinned CDK CLI synthesizes
# both stacks offline (cdk-nag runs again inside).
npm ci --no-audit --no-fund --loglevel=error
npx cdk synth --quiet -c feedbackEmail=saavutettavuus@example.fi -c alarmEmail=alerts@example.fi -c mailFrom="Rengas <rengas@example.fi>" > /dev/null
echo "all tests passed"
