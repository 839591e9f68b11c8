#!/usr/bin/env bash
# A single-node SLURM on this machine, without systemd, for CI and for trying jobs/slurm/ locally.
#   bash tools/slurm-local.sh start DIR   # installs slurm-wlm + munge if needed, writes DIR/slurm.conf,
#                                         # starts munged, slurmctld, slurmd; prints `export SLURM_CONF=…`
#   bash tools/slurm-local.sh stop DIR    # stops the daemons by the PIDs in DIR/*.pid
# Facts this relies on are in ../shared/design/CLUSTER-NOTES.md (verified on Debian 12, SLURM 22.05).
# Fails loudly (non-zero, with the daemon logs) if the node does not come up idle.
set -euo pipefail
action=${1:?usage: slurm-local.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: slurm-local.sh start|stop DIR}" && cd "$2" && pwd)

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [[ -f "$dir/$name.pid" ]] || continue
    pid=$(cat "$dir/$name.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

if [[ $action == stop ]]; then
  stop
  exit 0
fi
[[ $action == start ]] || { echo "slurm-local.sh: unknown action '$action'" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge \
    >/dev/null
fi

for daemon in slurmctld slurmd; do
  if pgrep -x "$daemon" >/dev/null; then
    echo "slurm-local.sh: a $daemon is already running (pid $(pgrep -x "$daemon" | head -1)); stop it first" >&2
    exit 1
  fi
done

# munge: the package made /etc/munge/munge.key; the socket directory must exist and be munge's.
mkdir -p /run/munge
chown munge:munge /run/munge
runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid --force
cp /run/munge/munged.pid "$dir/munged.pid"

host=$(hostname -s)
cpus=$(nproc)
# RealMemory a little below what slurmd -C reports, else the node drains.
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
mem=$((mem * 9 / 10))
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
cat >"$dir/slurm.conf" <<CONF
ClusterName=scorematch-ci
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
# A requeued job may start again after 10 s instead of 121 s.
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$dir/slurm.conf
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  [[ $state == idle ]] && break
  sleep 0.2
done
for daemon in slurmctld slurmd; do # ours, not some other instance answering on the ports
  kill -0 "$(cat "$dir/$daemon.pid" 2>/dev/null || echo 0)" 2>/dev/null || state="$daemon not running"
done
if [[ ${state:-} != idle ]]; then
  echo "slurm-local.sh: the node did not come up idle (state '${state:-none}'); logs:" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  stop
  exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
