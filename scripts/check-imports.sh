#!/usr/bin/env bash
# Each target declares exactly the modules its files import (issue 14 point 7): lists
# every module a target's Swift files import that its Package.swift entry does not
# declare, and every declared dependency no file of the target imports. Exits 1 on any
# such mismatch. MemberImportVisibility makes each file import what it uses; this
# makes Package.swift say the same.
#
#   scripts/check-imports.sh [PACKAGE_DIR...]   # default: . Fuzz Benchmarks
#
# A product dependency counts as its module of the same name (true of every product
# we use). The toolchain's own modules (Foundation, Glibc, Testing...) need no entry.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain_modules=" Foundation FoundationEssentials Glibc Musl Darwin Dispatch Synchronization Testing XCTest _Concurrency "
packages=("$@")
((${#packages[@]})) || packages=(. Fuzz Benchmarks)

# Its own scratch path: dump-package must not wait for a build's lock on .build.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/check-imports.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mismatches=0
for package in "${packages[@]}"; do
    manifest=$(swift package --package-path "$package" --scratch-path "$scratch" dump-package)
    while IFS=$'\t' read -r target directory declared; do
        [[ -d $package/$directory ]] || continue
        files=$(find "$package/$directory" -name '*.swift')
        [[ -n $files ]] || continue   # a C target
        # shellcheck disable=SC2086
        imported=$(sed -nE 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*((public|package|internal)[[:space:]]+)?import[[:space:]]+([a-z]+[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*).*/\5/p' $files | sort -u)
        for module in $imported; do
            [[ $toolchain_modules == *" $module "* || " $declared " == *" $module "* ]] && continue
            echo "$package: $target imports $module, which it does not declare"
            mismatches=$((mismatches + 1))
        done
        for module in $declared; do
            grep -qx "$module" <<<"$imported" && continue
            echo "$package: $target declares $module, which none of its files imports"
            mismatches=$((mismatches + 1))
        done
    done < <(jq -r '.targets[] | select(.type != "plugin")
        | [.name,
           (.path // ((if .type == "test" then "Tests/" else "Sources/" end) + .name)),
           ([.dependencies[] | (.byName // .target // .product)[0]] | join(" "))]
        | @tsv' <<<"$manifest")
done
if ((mismatches)); then
    echo "check-imports: $mismatches mismatch(es) between imports and Package.swift" >&2
    exit 1
fi
echo "check-imports: every target declares exactly what it imports (${packages[*]})"
