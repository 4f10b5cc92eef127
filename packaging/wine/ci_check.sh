#!/usr/bin/env bash
# CI's guard on the Windows build (called by .ci/run after the tests):
#
#   bash packaging/wine/ci_check.sh           # build under Wine when needed, fail when it fails
#   bash packaging/wine/ci_check.sh --hash    # print the hash of what goes into the build
#
# The build (packaging/wine/build.sh, ~30-40 min) runs when the commit is on a release tag (v*) or
# when what goes into the installer changed since the last build that passed: packaging/,
# pyproject.toml and the model files (particle_gui/models/; Markdown files aside), hashed file by
# file with git. A build that passes records that hash in packaging/wine/verified_inputs.txt:
# commit it with the change, and CI does not build again. WINE_BUILD=always|never overrides.
set -euo pipefail
cd "$(dirname "$0")/../.."
STAMP=packaging/wine/verified_inputs.txt

inputs_hash() {
  git ls-files -co --exclude-standard -- packaging pyproject.toml particle_gui/models | grep -vx "$STAMP" | grep -v "\.md$" | \
    LC_ALL=C sort | while read -r path; do printf '%s %s\n' "$(git hash-object "$path")" "$path"; done | \
    sha256sum | cut -d' ' -f1
}

if [ "${1:-}" = "--hash" ]; then inputs_hash; exit 0; fi

current="$(inputs_hash)"
recorded="$(grep -v '^#' "$STAMP" 2>/dev/null | head -n 1 || true)"
tag="$(git tag --points-at HEAD 2>/dev/null | grep '^v' | head -n 1 || true)"
decision="${WINE_BUILD:-auto}"
if [ "$decision" = never ] || { [ "$decision" = auto ] && [ "$current" = "$recorded" ] && [ -z "$tag" ]; }; then
  echo "Windows build under Wine: not run (inputs $current, as verified in $STAMP; WINE_BUILD=$decision)"
  exit 0
fi
echo "Windows build under Wine: runs (inputs $current, verified ${recorded:-never}; tag ${tag:-none}; WINE_BUILD=$decision)"
bash packaging/wine/build.sh "${WINE_BUILD_OUT:-/tmp/particle_gui_wine_build}"
