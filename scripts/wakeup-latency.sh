# Sourced by scripts/bench.sh and scripts/bench-apps.sh (bash).
#
# hold_wakeup_latency: asks the kernel for a CPU wake-up latency of 0 µs for
# as long as the calling shell runs (PM QoS, /dev/cpu_dma_latency: the
# request holds while the file stays open), as latency benchmarks do
# (cyclictest, tuned's latency-performance profile).  Why: every Wine socket
# call is a round trip to the wineserver process, and on an idle virtual
# machine the CPU that must answer is often halted; waking it took 50 to
# 700 µs here (cpuidle driver haltpoll with guest_halt_poll_ns=0), so an
# idle machine timed a 1-byte ping-pong anywhere between 155 and 790 µs
# and the 2 % and 5 % bounds could not be read.  With the request held, idle
# CPUs poll instead of halting and the same ping-pong takes 90-110 µs,
# round after round.  Both paths of every comparison run under the same
# request, and the A/A controls say what noise is left.
#
# Sets wakeup_latency_held to true or false.  Without root (or without the
# device) nothing is held and the figures are as noisy as the machine.
wakeup_latency_held=false

hold_wakeup_latency() {
  local fd
  if [ -w /dev/cpu_dma_latency ] && exec {fd}>/dev/cpu_dma_latency 2>/dev/null; then
    # A string is parsed as a number of microseconds (a 4-byte write would
    # be read as a binary s32).
    if printf '0' >&"$fd" 2>/dev/null; then
      wakeup_latency_held=true
      return 0
    fi
    exec {fd}>&-
  fi
  printf 'bench: note: cannot hold a CPU wake-up latency of 0 (/dev/cpu_dma_latency needs root):\n' >&2
  printf 'bench: note: the Wine-timed ratios will carry the idle CPUs'"'"' wake-up noise\n' >&2
  return 0
}
