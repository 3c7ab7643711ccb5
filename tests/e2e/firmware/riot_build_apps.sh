#!/usr/bin/env bash
# Builds the RIOT applications of firmware/riot for BOARD=native64 into a
# folder of the build tree, for the RIOT end-to-end tests (a CTest fixture).
#
#   riot_build_apps.sh <project root> <output folder>
#
# The RIOT tree: $RIOTBASE when set, else the archive
# ../shared/riot/RIOT-*-native64.tar.xz next to the project (as CI has it),
# extracted once into <output folder>/RIOT. Without either, prints one line
# saying so and exits 77 (CTest: skipped). The apps get short intervals so
# the tests finish quickly: alive every 2 s, sensor values every 1 s, the
# MQTT-SN keep-alive 10 s; and a position (48.7146,2.2056).
# Outputs: <output folder>/<app>/aiot_<app>.elf; nothing is written into
# firmware/.
set -euo pipefail
project=$(cd "$1" && pwd)
out=$2

riotbase=${RIOTBASE:-}
if [ -z "$riotbase" ] && ! ls "$project"/../shared/riot/RIOT-*-native64.tar.xz > /dev/null 2>&1; then
  echo "SKIP: no RIOT tree (set RIOTBASE, or put the RIOT archive in ../shared/riot/)"
  exit 77
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "$riotbase" ]; then
  archive=$(ls "$project"/../shared/riot/RIOT-*-native64.tar.xz 2>/dev/null | head -n 1 || true)
  if [ -z "$archive" ]; then
    echo "SKIP: no RIOT tree (set RIOTBASE, or put the RIOT archive in ../shared/riot/)"
    exit 77
  fi
  riotbase=$out/RIOT
  stamp=$out/RIOT.extracted
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(basename "$archive")" ]; then
    rm -rf "$riotbase" "$stamp"
    echo "extracting $(basename "$archive")"
    tar xJf "$archive" -C "$out"
    basename "$archive" > "$stamp"
  fi
fi
if [ ! -f "$riotbase/Makefile.include" ]; then
  echo "RIOTBASE '$riotbase' is not a RIOT tree" >&2
  exit 1
fi
riotbase=$(cd "$riotbase" && pwd)

apps=(node_led node_env node_light node_imu node_air node_mqttsn)
build_one() {
  local app=$1 log=$out/$1.build.log
  local extra=()
  case $app in
    node_mqttsn) extra=(NODE_ID=riot-sn SEND_INTERVAL_MS=1000 MQTTSN_KEEPALIVE=10
                        MQTTSN_RETRY_S=1) ;;
    node_imu) extra=(SEND_INTERVAL_MS=500) ;;
    *) extra=(SEND_INTERVAL_MS=1000) ;;
  esac
  if make -C "$project/firmware/riot/$app" RIOTBASE="$riotbase" BOARD=native64 \
       BINDIR="$out/$app" ALIVE_INTERVAL=2 POSITION=48.7146,2.2056 "${extra[@]}" -j1 > "$log" 2>&1; then
    echo "built $app"
  else
    echo "FAILED $app (last lines of $log):" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
}
export -f build_one
export out project riotbase
start=$(date +%s)
# two applications at a time: RIOT's recursive make gains little from -j
printf '%s\n' "${apps[@]}" | xargs -P 2 -I{} bash -c 'build_one {}'
echo "RIOT apps built in $(( $(date +%s) - start )) s"
