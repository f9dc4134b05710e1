#!/usr/bin/env bash
# Builds every function under functions/ into build/<name>/bootstrap for the
# Lambda provided.al2023 runtime on arm64, stripped, and prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in functions/*/; do
  fn=$(basename "$dir")
  mkdir -p "build/$fn"
  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w" -o "build/$fn/bootstrap" "./functions/$fn"
done
for f in build/*/bootstrap; do
  stat -c '%s %n' "$f" | awk '{ printf "%-32s %5.1f MB\n", $2, $1 / 1048576 }'
done >&2
