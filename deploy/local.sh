#!/usr/bin/env bash
# N replicas of RNN Lab behind HAProxy on this machine, from Debian's packages (no containers):
#
#   bash deploy/local.sh 2 8501    # the proxy on port 8501, replicas on 8502 and 8503 (loopback)
#
# Students open http://THIS-MACHINE:8501. Ctrl-C stops everything. The proxy listens on
# RNN_LAB_BIND (default 0.0.0.0); the replicas only on 127.0.0.1. Each replica gets an equal share
# of the cores as training workers unless RNN_LAB_WORKERS is set (dashboard/limits.py has the
# other limits; every replica runs with the same ones). Needs: apt-get install haproxy.
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=${1:-2}
port=${2:-8501}
bind=${RNN_LAB_BIND:-0.0.0.0}
command -v haproxy >/dev/null || { echo "HAProxy is not installed: apt-get install haproxy" >&2; exit 1; }
export RNN_LAB_WORKERS=${RNN_LAB_WORKERS:-$(( $(nproc) / replicas > 0 ? $(nproc) / replicas : 1 ))}

run=$(mktemp -d)
pids=()
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop EXIT
trap 'exit 0' INT TERM

# wait_for URL PID LOG NAME: until URL answers. If the process PID stops first, or nothing answers
# within 2 minutes, say so with the end of its LOG (the folder holding it goes when this script
# ends) and stop everything.
wait_for() {
  local deadline=$((SECONDS + 120))
  until python -c "import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; do
    if ! kill -0 "$2" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
      echo "$4 did not start (nothing answered at $1); the end of its log:" >&2
      tail -n 5 "$3" >&2
      exit 1
    fi
    sleep 0.2
  done
}

servers=""
for i in $(seq 1 "$replicas"); do
  replica_port=$((port + i))
  python -m streamlit run dashboard/app.py --server.port "$replica_port" --server.address 127.0.0.1 \
    --server.headless true --browser.gatherUsageStats false >"$run/replica$i.log" 2>&1 &
  pids+=($!)
  echo "replica app$i: http://127.0.0.1:$replica_port (pid $!, log $run/replica$i.log)"
  servers+="    server app$i 127.0.0.1:$replica_port check cookie app$i\n"
done

# The proxy starts once every replica answers. HAProxy counts a server up from its start, and one
# failed first health check takes it down: started beside the replicas, it took down the one not
# yet listening and sent every student to the other until two good checks 2 s apart (3 s more).
for i in $(seq 1 "$replicas"); do
  wait_for "http://127.0.0.1:$((port + i))/_stcore/health" "${pids[$((i - 1))]}" "$run/replica$i.log" "replica app$i"
done

# deploy/haproxy.cfg, with this machine's bind address and servers
sed -e "s|^\( *bind \).*|\1$bind:$port|" -e '/^ *server /d' deploy/haproxy.cfg >"$run/haproxy.cfg"
printf "$servers" >>"$run/haproxy.cfg"
haproxy -f "$run/haproxy.cfg" -db >"$run/haproxy.log" 2>&1 &
proxy=$!
pids+=($proxy)
case "$bind" in  # the proxy's address as printed (IPv6 in brackets), and where this machine reaches it
  0.0.0.0 | "*") shown=$bind; here=127.0.0.1 ;;
  ::) shown="[::]"; here="[::1]" ;;
  *:*) shown="[$bind]"; here=$shown ;;
  *) shown=$bind; here=$bind ;;
esac
wait_for "http://$here:$port/_stcore/health" "$proxy" "$run/haproxy.log" "HAProxy"
# said once students can come: every replica is in the proxy's rotation
echo "proxy: http://$shown:$port (pid $proxy) in front of $replicas replicas, $RNN_LAB_WORKERS training workers each"
wait "$proxy"  # a replica may stop (its students move to another); the proxy's end is the end
