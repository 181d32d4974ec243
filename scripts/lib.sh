# Shared shell helpers for scripts/run.sh and scripts/test.sh.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # apt_install pkg... : installs the Debian packages that are not there yet.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_venv() {
  # ensure_venv requirements-file : .venv with exactly that file installed (skipped when unchanged).
  local req="$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
  fi
  local stamp=".venv/.installed-$(basename "$req")"
  local hash
  hash="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    echo "==> pip install -r $req"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$hash" > "$stamp"
  fi
}
