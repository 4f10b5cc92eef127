#!/usr/bin/env bash
# Sign the .app (hardened runtime) or sign, notarise and staple the .dmg. Needs a "Developer ID
# Application" certificate in the keychain and these variables (see packaging/README.md):
#   MACOS_SIGN_IDENTITY   e.g. "Developer ID Application: Example Lab (TEAMID1234)"
#   MACOS_NOTARY_PROFILE  a notarytool keychain profile (xcrun notarytool store-credentials NAME ...)
#   bash packaging/macos/sign_and_notarize.sh app dist/ParticleGUI.app
#   bash packaging/macos/sign_and_notarize.sh dmg dist/ParticleGUI-0.1.0.dmg
set -euo pipefail
kind="${1:?usage: sign_and_notarize.sh app|dmg PATH}"
target="${2:?usage: sign_and_notarize.sh app|dmg PATH}"
identity="${MACOS_SIGN_IDENTITY:?set MACOS_SIGN_IDENTITY}"
here="$(cd "$(dirname "$0")" && pwd)"
case "$kind" in
  app)
    # Inside out: every library and executable, then the bundle itself.
    find "$target/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0 |
      xargs -0 codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" --sign "$identity"
    codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" --sign "$identity" "$target"
    codesign --verify --deep --strict --verbose=2 "$target"
    ;;
  dmg)
    codesign --force --timestamp --sign "$identity" "$target"
    xcrun notarytool submit "$target" --keychain-profile "${MACOS_NOTARY_PROFILE:?set MACOS_NOTARY_PROFILE}" --wait
    xcrun stapler staple "$target"
    spctl --assess --type open --context context:primary-signature --verbose "$target"
    ;;
  *) echo "usage: sign_and_notarize.sh app|dmg PATH" >&2; exit 2 ;;
esac
