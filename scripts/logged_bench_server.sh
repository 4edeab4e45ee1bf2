#!/bin/sh
# Serves the bench with another build and keeps its log: give this script as
# GUANAI_BENCH_SERVER, with REAL=the guanai binary to run and SRVLOG=the file its output is
# appended to, and RUST_LOG as the server should log (by default the summary refresher's
# debug lines: how many marks each refresh took, its count's and its write's time).
#
#   REAL=/tmp/guanai-new SRVLOG=/tmp/srv-new.log GUANAI_BENCH_SERVER=scripts/logged_bench_server.sh \
#     GUANAI_BENCH_CITY=/tmp/c /tmp/guanai-new bench --only city
: "${REAL:?REAL: the guanai binary to serve with}"
: "${SRVLOG:?SRVLOG: the file the server logs to}"
export RUST_LOG="${SERVER_LOG:-warn,guanai_store::reports::refresh=debug}"
exec "$REAL" "$@" >>"$SRVLOG" 2>&1
