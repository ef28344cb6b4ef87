# Sourced by tools/install_deps.sh and tools/install_bench_deps.sh.
#
# install_missing PACKAGE...: apt-get installs those of the Debian packages
# that are not installed yet (with sudo when not root), and calls apt-get
# not at all when none is missing, so the scripts are safe to re-run.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
