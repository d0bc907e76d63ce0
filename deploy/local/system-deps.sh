#!/usr/bin/env bash
# Install the system packages Dockyard's local run and tests need, when absent.
# Debian/Ubuntu: apt-get, at the versions the machine's Debian release carries (not pinned).
# Go (for building the control plane) must be >= 1.26.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus >/dev/null || need+=(prometheus)  # canary analysis queries it (tests run one)
command -v ps >/dev/null || need+=(procps)  # make run finds the processes it must stop
command -v wrk >/dev/null || need+=(wrk)  # make bench drives the webhook endpoints with it
if [ ${#need[@]} -gt 0 ]; then
  echo "[system-deps] installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "[system-deps] Go >= 1.26 is needed to build the local Kubernetes control plane;" \
       "install it, or point DOCKYARD_K8S_BIN at prebuilt binaries" >&2
  exit 1
fi
