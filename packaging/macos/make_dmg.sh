#!/usr/bin/env bash
# Pack the .app into a compressed disk image with an Applications link to drag it onto.
#   bash packaging/macos/make_dmg.sh dist/ParticleGUI.app dist/ParticleGUI-0.1.0.dmg
# (python packaging/build.py --installer runs this). Sign and notarise the .app BEFORE packing
# and the .dmg after it: see packaging/README.md and sign_and_notarize.sh.
set -euo pipefail
app="${1:?usage: make_dmg.sh APP DMG}"
dmg="${2:?usage: make_dmg.sh APP DMG}"
[ -d "$app" ] || { echo "no app bundle at $app" >&2; exit 1; }
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  bash "$(dirname "$0")/sign_and_notarize.sh" app "$app"
fi
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Particle GUI" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  bash "$(dirname "$0")/sign_and_notarize.sh" dmg "$dmg"
fi
echo "wrote $dmg"
