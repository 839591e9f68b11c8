#!/usr/bin/env bash
# Installs scorematch's build and run dependencies from Debian 12 packages (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake git ca-certificates python3 gnuplot-nox \
  libeigen3-dev libopenmpi-dev openmpi-bin libtbb-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev librandom123-dev \
  >/dev/null
