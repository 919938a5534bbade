#!/usr/bin/env bash
# Installs edge-gateway as a systemd service on a Raspberry Pi, a Jetson or any arm64/x86-64
# Debian-like Linux: the application in /opt/edge-gateway, settings in /etc/edge-gateway, state in
# /var/lib/edge-gateway, the unit from deployment/systemd/. Safe to run again: it upgrades in place
# and keeps the settings. See deployment/pi/README.md.
set -euo pipefail

readonly MIN_NODE=20.18.1
readonly PREFIX=/opt/edge-gateway
readonly CONFIG_DIR=/etc/edge-gateway
readonly DATA_DIR=/var/lib/edge-gateway
readonly MODELS_DIR=/var/lib/edge-gateway/models
readonly UNIT_DIR=/etc/systemd/system
readonly CLI_PATH=/usr/local/bin/edge-gateway
readonly SERVICE=edge-gateway
readonly SERVICE_USER=edge-gateway
# The search path systemd resolves `env node` with in ExecStart.
readonly SYSTEMD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

dry_run=0
force=0
start=1
gpu=""
source_dir=""
tarball=""
work_dir=""

usage() {
  cat <<EOF
Usage: install.sh [options]

Installs or upgrades edge-gateway under ${PREFIX} and runs it as the systemd service ${SERVICE}.

  --source DIR     install from this checkout (default: the checkout holding this script)
  --tarball FILE   install from a source tarball made with
                   git archive --format=tar.gz --prefix=edge-gateway/ -o edge-gateway.tar.gz HEAD
  --gpu cuda       also build llama.cpp with CUDA on this device (Jetson; needs JetPack and cmake)
  --force          rebuild even when the same source is already installed
  --no-start       install and enable, but do not (re)start the service
  --dry-run        print what would be done, change nothing (needs no root)
  -h, --help       this text

Supported: aarch64 (Raspberry Pi 3/4/5 on a 64-bit OS, Jetson), x86_64, and armv7l (32-bit
Raspberry Pi OS; works, slower). Needs Node.js >= ${MIN_NODE} with npm, and python3, make and g++
where the SQLite binding has no prebuilt binary.
EOF
}

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

# Runs a command, or in a dry run prints it. Every change the script makes goes through here.
run() {
  if ((dry_run)); then
    printf '    would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    printf '    +'
    printf ' %q' "$@"
    printf '\n'
    "$@"
  fi
}

# Writes stdin to a file (mode, owner), or in a dry run says so.
write_file() {
  local path=$1 mode=$2 owner=$3 tmp
  if ((dry_run)); then
    cat >/dev/null
    note "would write: ${path} (mode ${mode}, owner ${owner})"
    return
  fi
  tmp=$(mktemp "${path}.XXXXXX")
  cat >"${tmp}"
  chmod "${mode}" "${tmp}"
  chown "${owner}" "${tmp}"
  mv -f "${tmp}" "${path}"
  note "wrote: ${path}"
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --source)
        (($# >= 2)) || die "--source needs a directory"
        source_dir=$2
        shift 2
        ;;
      --tarball)
        (($# >= 2)) || die "--tarball needs a file"
        tarball=$2
        shift 2
        ;;
      --gpu)
        (($# >= 2)) || die "--gpu needs a value (cuda)"
        [[ $2 == cuda ]] || die "--gpu: only cuda is supported, got '$2'"
        gpu=$2
        shift 2
        ;;
      --force) force=1 && shift ;;
      --no-start) start=0 && shift ;;
      --dry-run) dry_run=1 && shift ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown option '$1'; see --help" ;;
    esac
  done
  [[ -z ${source_dir} || -z ${tarball} ]] || die "give --source or --tarball, not both"
}

check_arch() {
  local arch
  arch=$(uname -m)
  case ${arch} in
    aarch64 | arm64) say "architecture ${arch}: 64-bit Arm (Raspberry Pi 3/4/5 on a 64-bit OS, Jetson)" ;;
    x86_64) say "architecture ${arch}: x86-64" ;;
    armv7l)
      say "architecture ${arch}: 32-bit Arm (Raspberry Pi OS 32-bit)"
      note "supported but slower; a 64-bit OS (aarch64) is recommended on a Pi 3/4/5"
      ;;
    armv6l) die "architecture armv6l (Pi Zero/Pi 1) is not supported: Node.js ${MIN_NODE%%.*} has no official build for it" ;;
    *) die "architecture ${arch} is not supported (aarch64, x86_64 or armv7l)" ;;
  esac
}

# True when version $1 (x.y.z) is at least $2.
version_at_least() {
  local -a have want
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a want <<<"$2"
  local i
  for i in 0 1 2; do
    ((10#${have[i]:-0} > 10#${want[i]:-0})) && return 0
    ((10#${have[i]:-0} < 10#${want[i]:-0})) && return 1
  done
  return 0
}

node_bin=""

check_node() {
  node_bin=$(command -v node) || die "node not found: install Node.js >= ${MIN_NODE} (LTS recommended)"
  command -v npm >/dev/null || die "npm not found next to ${node_bin}"
  local version
  version=$(node --version)
  version=${version#v}
  [[ ${version} =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the Node.js version from '${version}'"
  version_at_least "${BASH_REMATCH[0]}" "${MIN_NODE}" ||
    die "Node.js ${version} is too old: edge-gateway needs >= ${MIN_NODE}"
  say "Node.js ${version} at ${node_bin}"
  case ${node_bin} in
    /home/* | /root/*)
      die "node at ${node_bin} is under a home directory, which the service cannot read (ProtectHome=yes); install Node.js system-wide"
      ;;
  esac
}

check_gpu() {
  [[ ${gpu} == cuda ]] || return 0
  local nvcc
  nvcc=$(PATH="/usr/local/cuda/bin:${PATH}" command -v nvcc) ||
    die "--gpu cuda: nvcc not found (JetPack's CUDA toolkit: sudo apt-get install nvidia-jetpack)"
  command -v cmake >/dev/null || note "cmake not found: node-llama-cpp will fetch its own (sudo apt-get install cmake avoids that)"
  say "CUDA compiler ${nvcc}"
}

check_root() {
  ((EUID == 0)) && return 0
  if ((dry_run)); then
    note "not root: a real run needs sudo"
  else
    die "run as root (sudo bash $0 ...), or add --dry-run to see the steps"
  fi
}

cleanup() {
  [[ -z ${work_dir} ]] || rm -rf "${work_dir}"
}

# Sets source_dir to the tree to install from, extracting a tarball first.
resolve_source() {
  if [[ -n ${tarball} ]]; then
    [[ -f ${tarball} ]] || die "tarball ${tarball} not found"
    work_dir=$(mktemp -d)
    trap cleanup EXIT
    tar -xzf "${tarball}" -C "${work_dir}"
    local entries=("${work_dir}"/*)
    if ((${#entries[@]} == 1)) && [[ -d ${entries[0]} && ! -e ${work_dir}/package.json ]]; then
      source_dir=${entries[0]}
    else
      source_dir=${work_dir}
    fi
  elif [[ -z ${source_dir} ]]; then
    source_dir=$(cd "${SCRIPT_DIR}/../.." && pwd)
  fi
  [[ -f ${source_dir}/package.json ]] || die "${source_dir} has no package.json"
  grep -q '"name": "edge-gateway"' "${source_dir}/package.json" || die "${source_dir} is not an edge-gateway checkout"
  local needed
  for needed in package-lock.json assembly host models deployment/systemd/edge-gateway.service; do
    [[ -e ${source_dir}/${needed} ]] || die "${source_dir} lacks ${needed}: use a git checkout or a git archive tarball"
  done
  say "source ${source_dir}${tarball:+ (from ${tarball})}"
}

# Identifies what would be built: same stamp, nothing to rebuild.
source_stamp() {
  local id
  if [[ -n ${tarball} ]]; then
    id="tarball $(sha256sum "${tarball}" | cut -d' ' -f1)"
  elif git -C "${source_dir}" rev-parse --git-dir >/dev/null 2>&1; then
    id="git $(git -C "${source_dir}" rev-parse HEAD)"
    # Uncommitted changes have no stable id: always rebuild them.
    [[ -z $(git -C "${source_dir}" status --porcelain --untracked-files=no) ]] || id="${id} dirty $(date +%s)"
  else
    id="dir ${source_dir} $(date +%s)"
  fi
  printf '%s node %s arch %s gpu %s\n' "${id}" "$(node --version)" "$(uname -m)" "${gpu:-none}"
}

install_app() {
  local stamp stage=${PREFIX}.new old=${PREFIX}.old
  stamp=$(source_stamp)
  if ((!force)) && [[ -f ${PREFIX}/.install-stamp && $(cat "${PREFIX}/.install-stamp") == "${stamp}" ]]; then
    say "application: ${PREFIX} already holds this build (--force rebuilds)"
    return
  fi
  say "application: build in ${stage}, then swap into ${PREFIX}"
  run rm -rf "${stage}" "${old}"
  run mkdir -p "${stage}"
  # Build outputs and local state are never copied: the build makes its own.
  if ((dry_run)); then
    note "would copy ${source_dir} to ${stage} (without node_modules, dist, build, data, models/tiny, .git)"
  else
    tar -C "${source_dir}" --exclude=./node_modules --exclude=./dist --exclude=./build --exclude=./data \
      --exclude=./models/tiny --exclude=./.git --exclude=./coverage --exclude=./test-artifacts -cf - . |
      tar -C "${stage}" -xf -
  fi
  # npm install, not npm ci: package-lock.json lacks other platforms' optional packages, which
  # npm ci refuses. It runs `prepare`: build/core.wasm, dist/ and the tiny demo model. Dev
  # dependencies are only needed for that build.
  run env -C "${stage}" npm install --no-audit --no-fund
  if [[ ${gpu} == cuda ]]; then
    run env -C "${stage}" PATH="/usr/local/cuda/bin:${PATH}" npx --no node-llama-cpp source download --gpu cuda
  fi
  run env -C "${stage}" npm prune --omit=dev --no-audit --no-fund
  run chmod 0755 "${stage}/dist/host/cli.js"
  if ((dry_run)); then
    note "would write: ${stage}/.install-stamp"
  else
    printf '%s\n' "${stamp}" >"${stage}/.install-stamp"
  fi
  run chown -R root:root "${stage}"
  [[ ! -d ${PREFIX} ]] || run mv "${PREFIX}" "${old}"
  run mv "${stage}" "${PREFIX}"
  run rm -rf "${old}"
}

create_user() {
  if getent passwd "${SERVICE_USER}" >/dev/null; then
    say "user ${SERVICE_USER} exists"
  else
    say "user ${SERVICE_USER}: system user, no login, no home"
    run useradd --system --user-group --home-dir "${DATA_DIR}" --no-create-home \
      --shell /usr/sbin/nologin --comment "edge-gateway service" "${SERVICE_USER}"
  fi
}

create_dirs() {
  say "directories ${CONFIG_DIR}, ${DATA_DIR}"
  run install -d -m 0755 -o root -g root "${CONFIG_DIR}"
  run install -d -m 0750 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${DATA_DIR}"
  if [[ -d ${MODELS_DIR} ]]; then
    note "kept ${MODELS_DIR}"
  else
    # The tiny demo model, so the service answers before a real model is added.
    run install -d -m 0750 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${MODELS_DIR}" "${MODELS_DIR}/tiny"
    run install -m 0640 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${PREFIX}/models/tiny-demo.yaml" "${MODELS_DIR}/"
    run install -m 0640 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${PREFIX}/models/tiny/tiny-demo.gguf" "${MODELS_DIR}/tiny/"
  fi
}

install_config() {
  local deploy=${PREFIX}/deployment/systemd
  ((dry_run)) && deploy=${source_dir}/deployment/systemd
  say "settings in ${CONFIG_DIR} (kept when present)"
  if [[ -e ${CONFIG_DIR}/edge-gateway.env ]]; then
    note "kept ${CONFIG_DIR}/edge-gateway.env"
  else
    write_file "${CONFIG_DIR}/edge-gateway.env" 0600 root:root <"${deploy}/edge-gateway.env"
  fi
  if [[ -e ${CONFIG_DIR}/gateway.yaml ]]; then
    note "kept ${CONFIG_DIR}/gateway.yaml"
  else
    write_file "${CONFIG_DIR}/gateway.yaml" 0644 root:root <"${deploy}/gateway.yaml"
  fi
}

install_cli() {
  say "command ${CLI_PATH} (service paths as defaults; run it as ${SERVICE_USER})"
  write_file "${CLI_PATH}" 0755 root:root <<EOF
#!/bin/sh
# edge-gateway with the service's directories as defaults. Run as the service user, so files in
# the data directory stay its own:  sudo -u ${SERVICE_USER} edge-gateway queue stats
: "\${GATEWAY_DATA_DIR:=${DATA_DIR}}"
: "\${GATEWAY_MODELS_DIR:=${MODELS_DIR}}"
export GATEWAY_DATA_DIR GATEWAY_MODELS_DIR
exec node --max-semi-space-size=8 --max-old-space-size=128 --v8-pool-size=1 ${PREFIX}/dist/host/cli.js "\$@"
EOF
}

install_unit() {
  local deploy=${PREFIX}/deployment
  ((dry_run)) && deploy=${source_dir}/deployment
  local dropins=${UNIT_DIR}/${SERVICE}.service.d
  say "systemd unit ${UNIT_DIR}/${SERVICE}.service"
  run install -m 0644 -o root -g root "${deploy}/systemd/${SERVICE}.service" "${UNIT_DIR}/${SERVICE}.service"
  local node_dir
  node_dir=$(dirname "${node_bin}")
  if PATH=${SYSTEMD_PATH} command -v node >/dev/null; then
    [[ ! -e ${dropins}/node-path.conf ]] || run rm -f "${dropins}/node-path.conf"
  else
    note "node is in ${node_dir}, outside systemd's search path: adding it with a drop-in"
    run install -d -m 0755 "${dropins}"
    write_file "${dropins}/node-path.conf" 0644 root:root <<EOF
[Service]
Environment=PATH=${node_dir}:${SYSTEMD_PATH}
EOF
  fi
  if [[ ${gpu} == cuda ]]; then
    run install -d -m 0755 "${dropins}"
    run install -m 0644 -o root -g root "${deploy}/jetson/gpu.conf" "${dropins}/gpu.conf"
  fi
}

start_service() {
  if [[ ! -d /run/systemd/system ]]; then
    say "systemd is not running here (a container or chroot?): enable and start ${SERVICE} on the device with"
    note "systemctl daemon-reload && systemctl enable --now ${SERVICE}"
    return
  fi
  say "service ${SERVICE}"
  run systemctl daemon-reload
  run systemctl enable "${SERVICE}"
  if ((start)); then
    run systemctl restart "${SERVICE}"
    note "status: systemctl status ${SERVICE}; logs: journalctl -u ${SERVICE} -f"
    note "check:  curl -s http://127.0.0.1:8080/ready   (the port and address are in ${CONFIG_DIR}/edge-gateway.env)"
  fi
}

main() {
  parse_args "$@"
  ((dry_run)) && say "dry run: nothing is changed"
  check_arch
  check_node
  check_gpu
  check_root
  resolve_source
  install_app
  create_user
  create_dirs
  install_config
  install_cli
  install_unit
  start_service
  say "done"
}

main "$@"
