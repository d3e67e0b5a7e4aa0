#!/usr/bin/env bash
# Run one defirisk snapshot job, for cron or a systemd service:  defirisk-job.sh JOBFILE [ARGS...]
#
# ARGS go to `defirisk job run` (default: --quiet, so stdout carries only alert lines and cron mails
# only when an alert fired or something failed). The job locks itself; this script adds no lock.
# Output is passed through and appended, with a start and an end line, to the log file. The exit
# status is defirisk's: 0 ok, 1 a deployment failed, 2 bad job file, 4 another run holds the lock.
#
# Settings, from the environment (all optional):
#   DEFIRISK_VENV      virtual environment holding defirisk      (default /opt/defirisk/.venv)
#   DEFIRISK_BIN       the defirisk executable                   (default $DEFIRISK_VENV/bin/defirisk)
#   DEFIRISK_LOG       log file, appended to                     (default /var/log/defirisk/job.log)
#   DEFIRISK_ENV_FILE  KEY=VALUE lines to export, e.g. ETH_RPC_URL (default /etc/defirisk/env, if readable)
# The env file is parsed, never executed, and nothing it holds is ever printed.
set -euo pipefail
umask 027

if [[ $# -lt 1 ]]; then
    echo "usage: ${0##*/} JOBFILE [defirisk job run options]" >&2
    exit 2
fi
jobfile=$1
shift
if [[ $# -eq 0 ]]; then
    set -- --quiet
fi

venv=${DEFIRISK_VENV:-/opt/defirisk/.venv}
bin=${DEFIRISK_BIN:-$venv/bin/defirisk}
log=${DEFIRISK_LOG:-/var/log/defirisk/job.log}
env_file=${DEFIRISK_ENV_FILE:-/etc/defirisk/env}

# cron starts jobs with a minimal PATH and no venv; give the job a known one.
export PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin"
export PYTHONUNBUFFERED=1

if [[ -r $env_file ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        line=${line#export }
        if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
            key=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
                value=${BASH_REMATCH[1]}
            fi
            export "$key=$value"
        else
            echo "${0##*/}: ignoring a malformed line in $env_file" >&2
        fi
    done <"$env_file"
fi

if [[ ! -x $bin ]]; then
    echo "${0##*/}: $bin is not executable (set DEFIRISK_VENV or DEFIRISK_BIN)" >&2
    exit 127
fi
mkdir -p "$(dirname "$log")"

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
echo "$(stamp) start job $jobfile (pid $$)" >>"$log"
status=0
"$bin" job run "$jobfile" "$@" >"$out" 2>"$err" || status=$?
{
    cat "$out"
    cat "$err"
    echo "$(stamp) end job $jobfile: exit $status"
} >>"$log"
cat "$out"
cat "$err" >&2
exit "$status"
