#!/usr/bin/env bash
# HallKit's one entry point. On a fresh machine it installs what HallKit needs (Debian packages
# through apt when run as root, a virtualenv in .venv with the package and its test tools), then runs:
#   bash run.sh demo [ARGS]   the demo hall (hallkit demo)
#   bash run.sh test [ARGS]   the test suite (pytest; ARGS go to pytest)
#   bash run.sh setup         only install
#   bash run.sh ANY [ARGS]    any other hallkit command, e.g. bash run.sh controller --help
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(mosquitto xvfb xauth xclip libzbar0 fonts-wqy-microhei espeak-ng libgl1 libegl1 libmtdev1 libgles2 chromium chromium-driver)
PYTHON=${PYTHON:-python3}
VENV=.venv

say() { printf '[run.sh] %s\n' "$*" >&2; }

setup_system() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || say "apt-get update failed; trying the install anyway"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        # The Debian package starts a system mosquitto on 1883; HallKit starts its own brokers.
        if command -v systemctl >/dev/null; then systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
    else
        say "missing system packages (install them as root): ${missing[*]}"
    fi
}

setup_python() {
    local stamp="$VENV/.hallkit-installed"
    local want
    want=$(cat pyproject.toml | sha256sum | cut -c1-16)
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing hallkit and its dependencies into $VENV (first run takes a few minutes)"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
        echo "$want" > "$stamp"
    fi
}

with_display() {
    # Kivy windows need a display; give them a virtual one when there is none.
    if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
        exec xvfb-run -a -s "-screen 0 1920x1920x24" "$@"
    fi
    exec "$@"
}

cmd=${1:-help}
shift || true
case "$cmd" in
    setup) setup_system; setup_python ;;
    test)
        setup_system; setup_python
        with_display "$VENV/bin/python" -m pytest -n 2 --dist loadfile "$@" ;;
    demo)
        setup_system; setup_python
        with_display "$VENV/bin/hallkit" demo "$@" ;;
    help|-h|--help)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' ;;
    *)
        setup_system; setup_python
        exec "$VENV/bin/hallkit" "$cmd" "$@" ;;
esac
