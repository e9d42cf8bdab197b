// Micro workloads for comparing a native run with sandboxed runs.
//
// Each workload runs in rounds of at least kRoundNs; the per-operation time
// of each round is recorded and the median over the rounds is printed as
// "<name> <ns per op>" on an unbuffered stdout. Statically linked so the
// same binary runs natively, in this sandbox and in gVisor.
//
// Usage: workloads [--rounds N] [--dir DIR] [name ...]
//        workloads --exit      (the exec target of fork+execve)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const uint64_t kRoundNs = 200000000;  // 0.2 s per round
static int g_rounds = 5;
static char g_dir[4096] = "/tmp";
static char g_self[4096];
static char g_file[4200];

static uint64_t NowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void Die(const char* what) {
  fprintf(stderr, "workloads: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int CmpDouble(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Runs op() repeatedly in rounds; returns the median ns per op.
typedef void (*OpFn)(void);
static double Measure(OpFn op, uint64_t min_ops) {
  double per[64];
  for (int r = 0; r < g_rounds; r++) {
    uint64_t n = 0, start = NowNs(), el;
    do {
      op();
      n++;
      el = NowNs() - start;
    } while (el < kRoundNs || n < min_ops);
    per[r] = (double)el / (double)n;
  }
  qsort(per, (size_t)g_rounds, sizeof(double), CmpDouble);
  return per[g_rounds / 2];
}

// Whole operations too slow to repeat many times: time each one.
static double MeasureEach(OpFn op) {
  double per[64];
  for (int r = 0; r < g_rounds; r++) {
    uint64_t start = NowNs();
    op();
    per[r] = (double)(NowNs() - start);
  }
  qsort(per, (size_t)g_rounds, sizeof(double), CmpDouble);
  return per[g_rounds / 2];
}

static void OpGetpid(void) { syscall(SYS_getpid); }

static void OpClock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
}

static void OpOpenReadClose(void) {
  char buf[4096];
  int fd = open(g_file, O_RDONLY);
  if (fd < 0) Die("open");
  if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) Die("read");
  close(fd);
}

static void OpStat(void) {
  struct stat st;
  if (stat(g_file, &st) != 0) Die("stat");
}

static int g_ping[2], g_pong[2];
static void OpPipePingPong(void) {
  char c = 'x';
  if (write(g_ping[1], &c, 1) != 1) Die("ping write");
  if (read(g_pong[0], &c, 1) != 1) Die("pong read");
}

static void OpForkExitWait(void) {
  pid_t p = fork();
  if (p < 0) Die("fork");
  if (p == 0) _exit(0);
  int st;
  waitpid(p, &st, 0);
}

static void OpForkExecWait(void) {
  pid_t p = fork();
  if (p < 0) Die("fork");
  if (p == 0) {
    char* argv[] = {g_self, "--exit", NULL};
    execv(g_self, argv);
    _exit(127);
  }
  int st;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "workloads: exec child failed (%#x)\n", st);
    exit(1);
  }
}

static void OpMmapTouch(void) {
  const size_t len = 64u << 20;
  char* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) Die("mmap");
  for (size_t i = 0; i < len; i += 4096) p[i] = 1;
  munmap(p, len);
}

static char g_chunk[1 << 20];
static char g_big[4200];
static void OpSeqWrite(void) {
  int fd = open(g_big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die("open big");
  for (int i = 0; i < 256; i++)
    if (write(fd, g_chunk, sizeof(g_chunk)) != (ssize_t)sizeof(g_chunk)) Die("write big");
  close(fd);
}

static void OpSeqRead(void) {
  int fd = open(g_big, O_RDONLY);
  if (fd < 0) Die("open big");
  for (int i = 0; i < 256; i++)
    if (read(fd, g_chunk, sizeof(g_chunk)) != (ssize_t)sizeof(g_chunk)) Die("read big");
  close(fd);
}

// Loopback TCP: a 1-byte request/response with a forked echo peer, and a
// 64 MiB one-way stream (the Sentry's netstack vs the host's).
static int g_tcp;
static void OpTcpRr(void) {
  char c = 'x';
  if (write(g_tcp, &c, 1) != 1) Die("tcp rr write");
  if (read(g_tcp, &c, 1) != 1) Die("tcp rr read");
}

static int g_tcp_listener;
static struct sockaddr_in g_tcp_addr;
static void TcpListen(void) {
  g_tcp_listener = socket(AF_INET, SOCK_STREAM, 0);
  if (g_tcp_listener < 0) Die("socket");
  memset(&g_tcp_addr, 0, sizeof(g_tcp_addr));
  g_tcp_addr.sin_family = AF_INET;
  g_tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(g_tcp_addr);
  if (bind(g_tcp_listener, (struct sockaddr*)&g_tcp_addr, len) ||
      getsockname(g_tcp_listener, (struct sockaddr*)&g_tcp_addr, &len) || listen(g_tcp_listener, 4)) {
    Die("bind/listen");
  }
}
static int TcpConnect(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr*)&g_tcp_addr, sizeof(g_tcp_addr))) Die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static void OpTcpStream(void) {
  pid_t p = fork();
  if (p == 0) {
    int fd = TcpConnect();
    for (int i = 0; i < 64; i++) {
      size_t off = 0;
      while (off < sizeof(g_chunk)) {
        ssize_t n = write(fd, g_chunk + off, sizeof(g_chunk) - off);
        if (n <= 0) _exit(1);
        off += (size_t)n;
      }
    }
    _exit(0);
  }
  int fd = accept(g_tcp_listener, NULL, NULL);
  if (fd < 0) Die("accept");
  static char buf[1 << 16];
  uint64_t total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) total += (uint64_t)n;
  if (total != (uint64_t)64 << 20) Die("tcp stream short");
  close(fd);
  waitpid(p, NULL, 0);
}

static int Wanted(int argc, char** argv, int first, const char* name) {
  if (first >= argc) return 1;
  for (int i = first; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

static void Report(const char* name, double ns) { printf("%s %.1f\n", name, ns); }

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--exit") == 0) return 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  int first = 1;
  while (first < argc && argv[first][0] == '-') {
    if (strcmp(argv[first], "--rounds") == 0 && first + 1 < argc) {
      g_rounds = atoi(argv[first + 1]);
      if (g_rounds < 1 || g_rounds > 63) g_rounds = 5;
      first += 2;
    } else if (strcmp(argv[first], "--dir") == 0 && first + 1 < argc) {
      snprintf(g_dir, sizeof(g_dir), "%s", argv[first + 1]);
      first += 2;
    } else {
      fprintf(stderr, "usage: workloads [--rounds N] [--dir DIR] [name ...]\n");
      return 2;
    }
  }
  ssize_t n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
  if (n <= 0) snprintf(g_self, sizeof(g_self), "%s", argv[0]);
  snprintf(g_file, sizeof(g_file), "%s/workloads-4k.%d", g_dir, getpid());
  snprintf(g_big, sizeof(g_big), "%s/workloads-256m.%d", g_dir, getpid());
  {
    char buf[4096];
    memset(buf, 'a', sizeof(buf));
    int fd = open(g_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) Die("create 4k file");
    close(fd);
  }
  memset(g_chunk, 'b', sizeof(g_chunk));

  if (Wanted(argc, argv, first, "getpid")) Report("getpid", Measure(OpGetpid, 100));
  if (Wanted(argc, argv, first, "clock_gettime")) Report("clock_gettime", Measure(OpClock, 100));
  if (Wanted(argc, argv, first, "open_read_close")) {
    Report("open_read_close", Measure(OpOpenReadClose, 50));
  }
  if (Wanted(argc, argv, first, "stat")) Report("stat", Measure(OpStat, 50));
  if (Wanted(argc, argv, first, "pipe_pingpong")) {
    if (pipe(g_ping) || pipe(g_pong)) Die("pipe");
    pid_t p = fork();
    if (p == 0) {
      char c;
      close(g_ping[1]);
      close(g_pong[0]);
      while (read(g_ping[0], &c, 1) == 1) {
        if (write(g_pong[1], &c, 1) != 1) break;
      }
      _exit(0);
    }
    close(g_ping[0]);
    close(g_pong[1]);
    Report("pipe_pingpong", Measure(OpPipePingPong, 50));
    close(g_ping[1]);
    waitpid(p, NULL, 0);
    close(g_pong[0]);
  }
  if (Wanted(argc, argv, first, "tcp_rr_1b")) {
    TcpListen();
    pid_t p = fork();
    if (p == 0) {
      int fd = TcpConnect();
      char c;
      while (read(fd, &c, 1) == 1) {
        if (write(fd, &c, 1) != 1) break;
      }
      _exit(0);
    }
    g_tcp = accept(g_tcp_listener, NULL, NULL);
    if (g_tcp < 0) Die("accept");
    int one = 1;
    setsockopt(g_tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Report("tcp_rr_1b", Measure(OpTcpRr, 50));
    close(g_tcp);
    waitpid(p, NULL, 0);
    close(g_tcp_listener);
  }
  if (Wanted(argc, argv, first, "tcp_stream_64m")) {
    TcpListen();
    Report("tcp_stream_64m", MeasureEach(OpTcpStream));
    close(g_tcp_listener);
  }
  if (Wanted(argc, argv, first, "fork_exit_wait")) Report("fork_exit_wait", Measure(OpForkExitWait, 5));
  if (Wanted(argc, argv, first, "fork_exec_wait")) Report("fork_exec_wait", Measure(OpForkExecWait, 5));
  if (Wanted(argc, argv, first, "mmap_touch_64m")) Report("mmap_touch_64m", MeasureEach(OpMmapTouch));
  if (Wanted(argc, argv, first, "seq_write_256m")) Report("seq_write_256m", MeasureEach(OpSeqWrite));
  if (Wanted(argc, argv, first, "seq_read_256m")) {
    struct stat st;
    if (stat(g_big, &st) != 0 || st.st_size != (off_t)256 << 20) OpSeqWrite();
    Report("seq_read_256m", MeasureEach(OpSeqRead));
  }
  unlink(g_file);
  unlink(g_big);
  return 0;
}
