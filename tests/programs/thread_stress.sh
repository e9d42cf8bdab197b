# A multi-threaded C program stress-testing futexes and signals (pthread
# mutexes, condition variables, barriers, queued real-time signals to
# spinning, sleeping, waiting and syscall-making threads, cancellation),
# built with gcc, then run; the run must print the same.
set -e
d=$(mktemp -d)
gcc -O2 -pthread -o "$d/stress" "$(dirname "$0")/src/thread_stress.c"
"$d/stress"
rm -rf "$d"
