#!/bin/sh
# CTest fixture (tests/CMakeLists.txt): one wineserver for the whole run;
# tests/conformance/conformance.sh starts and stops one around each run.
#
#   wineserver.sh start   kill whatever server serves $WINEPREFIX, start a
#                         persistent one and Wine's own processes
#   wineserver.sh stop    kill it and wait until it is gone
#
# Without it each test program joins the server the previous one left,
# which exits a moment after its last client goes: a program that connects
# just then fails with "wine client error:0: recvmsg: Connection reset by
# peer" (app_node_tcp_base_only on a fresh clone, 2026-12-06), a failure
# that has nothing to do with the test.
set -u
case "${1:-}" in
  start)
    wineserver -k 2>/dev/null
    wineserver -w 2>/dev/null
    # -p with no delay: the server stays until killed, whatever the gap
    # between two tests.  It goes into the background holding whatever
    # output it was given: not CTest's pipe, which CTest would wait on.
    wineserver -p </dev/null >/dev/null 2>&1 || exit 1
    # Wine's own processes (services.exe, winedevice.exe, explorer.exe,
    # rpcss.exe ...) start with the first program and now live as long as
    # the server: started here, they hold no test's output, which CTest
    # would otherwise wait on until the end of the run.
    wine cmd /c exit </dev/null >/dev/null 2>&1 || exit 1
    ;;
  stop)
    wineserver -k 2>/dev/null
    wineserver -w 2>/dev/null
    exit 0
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
