#!/usr/bin/env bash
# The README's Quick start, run as written on a fresh Debian 12 (bookworm) system.
#
#   sudo bash docs/check_fresh_debian.sh [--with-tests] [ROOT]
#
# Makes ROOT (default /tmp/fresh-debian) with debootstrap (minbase, plus what a fresh server or
# desktop install has: python3, sudo, git, ca-certificates), adds a user `micro` who may sudo, clones
# this checkout into their home and runs every ```bash block of the README's "Quick start" section
# in order, in one login shell, as that user: the apt line, the virtual environment, `pip install .`
# from the package registries, the window on the sample image (on an Xvfb display of this machine,
# kept open 45 s and photographed to ROOT/../fresh-debian-window.png), `analyze sample_data`, and
# with --with-tests the test command. Nothing from this machine's Python reaches ROOT.
# Needs root (debootstrap, chroot, mounts) and the Debian mirror and PyPI. Exit 0 when every step passed.
set -euo pipefail
WITH_TESTS=0
if [ "${1:-}" = "--with-tests" ]; then WITH_TESTS=1; shift; fi
ROOT=${1:-/tmp/fresh-debian}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHOT="$(dirname "$ROOT")/fresh-debian-window.png"
DISPLAY_NUMBER=77

if [ ! -f "$ROOT/etc/debian_version" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/dev/null
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
mountpoint -q "$ROOT/dev/pts" || mount --bind /dev/pts "$ROOT/dev/pts"
mountpoint -q "$ROOT/dev/shm" || mount -t tmpfs -o mode=1777 shm "$ROOT/dev/shm"  # as on any booted system
grep -q "$(hostname)" "$ROOT/etc/hosts" 2>/dev/null || echo "127.0.1.1 $(hostname)" >> "$ROOT/etc/hosts"
mkdir -p /tmp/.X11-unix "$ROOT/tmp/.X11-unix"
mountpoint -q "$ROOT/tmp/.X11-unix" || mount --bind /tmp/.X11-unix "$ROOT/tmp/.X11-unix"
XVFB_PID=""
cleanup() {
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  for m in tmp/.X11-unix dev/shm dev/pts dev proc; do umount "$ROOT/$m" 2>/dev/null || true; done
}
trap cleanup EXIT

# The machine as installed: Python 3, sudo, git. apt answers yes so the README's line runs unattended.
chroot "$ROOT" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  python3 sudo git ca-certificates >/dev/null'
# A network that inspects TLS (a proxy with its own certificate authority) is part of the site, not
# of this machine's Python: its authorities go into the fresh system's store as an administrator would.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1
fi
echo 'APT::Get::Assume-Yes "true";' > "$ROOT/etc/apt/apt.conf.d/90assume-yes"
chroot "$ROOT" bash -c 'id micro >/dev/null 2>&1 || useradd -m -s /bin/bash micro'
echo 'micro ALL=(ALL) NOPASSWD: ALL' > "$ROOT/etc/sudoers.d/micro"
rm -rf "$ROOT/home/micro/particle_gui" "$ROOT/home/micro/particle-gui-env" "$ROOT/tmp/window_opened"
git clone -q "$REPO" "$ROOT/home/micro/particle_gui"
chroot "$ROOT" chown -R micro:micro /home/micro/particle_gui

# The README's Quick start blocks, in order; the window is kept open 45 s, then closed.
python3 - "$REPO/README.md" "$WITH_TESTS" > "$ROOT/home/micro/quick_start.sh" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text[text.index("## Quick start"):]
section = section[:section.index("\n## ", 3)]
blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
print("set -euo pipefail\ncd ~/particle_gui")
print('window_45s() { touch /tmp/window_opened; timeout 45 "$@" || [ $? = 124 ]; }')
for block in blocks:
    if "pytest" in block and sys.argv[2] != "1":
        continue
    block = block.replace("particle-gui sample_data/", "window_45s particle-gui sample_data/")
    if "pytest" in block:
        block = "export QT_QPA_PLATFORM=offscreen\n" + block
    print(f"echo '>>> {block.strip().splitlines()[0][:90]}'\n{{\n{block}}} || exit 1")
EOF
echo "--- the README's Quick start, as run:"; cat "$ROOT/home/micro/quick_start.sh"

Xvfb ":$DISPLAY_NUMBER" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
( while [ ! -f "$ROOT/tmp/window_opened" ]; do sleep 2; done; sleep 35
  python3 -c "from PIL import ImageGrab; ImageGrab.grab(xdisplay=':$DISPLAY_NUMBER').save('$SHOT')" \
    && echo "window photographed: $SHOT" ) &
SHOT_PID=$!
chroot "$ROOT" su - micro -c "DISPLAY=:$DISPLAY_NUMBER bash ~/quick_start.sh"
wait "$SHOT_PID"
ls "$ROOT/home/micro/particle_gui/results" | head -20
echo "fresh Debian check passed"
