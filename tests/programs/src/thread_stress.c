// Threads, futexes and signals under load, with output that must be the
// same natively and in the sandbox: mutex counting, a bounded queue on
// condition variables, barriers, real-time signals queued to busy and
// blocked threads, and cancellation of threads blocked in the kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                    \
  do {                                                              \
    if (!(c)) {                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      exit(1);                                                      \
    }                                                               \
  } while (0)

// --- mutex counting ---
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void* Count(void* arg) {
  for (int i = 0; i < 50000; i++) {
    pthread_mutex_lock(&count_mu);
    counter++;
    pthread_mutex_unlock(&count_mu);
  }
  return arg;
}

// --- bounded queue ---
#define QCAP 16
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER, q_not_empty = PTHREAD_COND_INITIALIZER;
static long q[QCAP];
static int q_head, q_len, producers_left;
static void* Produce(void* arg) {
  long base = (long)arg;
  for (long i = 0; i < 20000; i++) {
    pthread_mutex_lock(&q_mu);
    while (q_len == QCAP) pthread_cond_wait(&q_not_full, &q_mu);
    q[(q_head + q_len) % QCAP] = base * 100000 + i;
    q_len++;
    pthread_cond_signal(&q_not_empty);
    pthread_mutex_unlock(&q_mu);
  }
  pthread_mutex_lock(&q_mu);
  producers_left--;
  pthread_cond_broadcast(&q_not_empty);
  pthread_mutex_unlock(&q_mu);
  return NULL;
}
static void* Consume(void* arg) {
  long sum = 0, n = 0;
  for (;;) {
    pthread_mutex_lock(&q_mu);
    while (q_len == 0 && producers_left > 0) pthread_cond_wait(&q_not_empty, &q_mu);
    if (q_len == 0) {
      pthread_mutex_unlock(&q_mu);
      break;
    }
    long v = q[q_head];
    q_head = (q_head + 1) % QCAP;
    q_len--;
    pthread_cond_signal(&q_not_full);
    pthread_mutex_unlock(&q_mu);
    sum += v;
    n++;
  }
  long* out = arg;
  out[0] = sum;
  out[1] = n;
  return NULL;
}

// --- barriers ---
static pthread_barrier_t barrier;
static atomic_int rounds_seen;
static void* Rounds(void* arg) {
  for (int r = 0; r < 200; r++) {
    atomic_fetch_add(&rounds_seen, 1);
    pthread_barrier_wait(&barrier);
  }
  return arg;
}

// --- real-time signals to threads in various states ---
static atomic_long handled[4];
static __thread int my_slot = -1;
static void OnRt(int sig, siginfo_t* si, void* uc) {
  (void)sig;
  (void)uc;
  if (my_slot >= 0) atomic_fetch_add(&handled[my_slot], si->si_value.sival_int);
}
static atomic_int stop_workers, workers_ready;
static void* Worker(void* arg) {
  my_slot = (int)(long)arg;
  // Signals sent before the slot is known would not be counted.
  atomic_fetch_add(&workers_ready, 1);
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  while (!atomic_load(&stop_workers)) {
    switch (my_slot) {
      case 0: {  // spinning
        for (volatile int i = 0; i < 10000; i++) {
        }
        break;
      }
      case 1: {  // sleeping
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        break;
      }
      case 2: {  // a timed condition wait (futex)
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 300000;
        if (ts.tv_nsec >= 1000000000) {
          ts.tv_sec++;
          ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&m);
        pthread_cond_timedwait(&c, &m, &ts);
        pthread_mutex_unlock(&m);
        break;
      }
      default:  // system calls
        getppid();
        sched_yield();
        break;
    }
  }
  return NULL;
}

// --- cancellation of threads blocked in the kernel ---
static int cancel_pipe[2];
static void* BlockedRead(void* arg) {
  char b;
  read(cancel_pipe[0], &b, 1);
  return arg;
}
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
static void Unlock(void* m) { pthread_mutex_unlock(m); }
static void* BlockedCond(void* arg) {
  pthread_mutex_lock(&cm);
  pthread_cleanup_push(Unlock, &cm);
  for (;;) pthread_cond_wait(&cc, &cm);
  pthread_cleanup_pop(1);
  return arg;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_t t[16];

  for (int i = 0; i < 8; i++) CHECK(pthread_create(&t[i], NULL, Count, NULL) == 0);
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  printf("mutex counter %ld\n", counter);

  producers_left = 4;
  long results[4][2];
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, Produce, (void*)i) == 0);
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[4 + i], NULL, Consume, results[i]) == 0);
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  long sum = 0, n = 0;
  for (int i = 0; i < 4; i++) {
    sum += results[i][0];
    n += results[i][1];
  }
  printf("queue items %ld sum %ld\n", n, sum);

  pthread_barrier_init(&barrier, NULL, 6);
  for (int i = 0; i < 6; i++) CHECK(pthread_create(&t[i], NULL, Rounds, NULL) == 0);
  for (int i = 0; i < 6; i++) pthread_join(t[i], NULL);
  printf("barrier rounds %d\n", atomic_load(&rounds_seen));

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnRt;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGRTMIN + 1, &sa, NULL);
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, Worker, (void*)i) == 0);
  while (atomic_load(&workers_ready) < 4) sched_yield();
  long sent[4] = {0, 0, 0, 0};
  for (int round = 0; round < 2000; round++) {
    for (int i = 0; i < 4; i++) {
      union sigval v = {.sival_int = 1 + (round % 3)};
      // Real-time signals queue (up to RLIMIT_SIGPENDING); pace the sender.
      while (sent[i] - atomic_load(&handled[i]) > 200) sched_yield();
      int e = pthread_sigqueue(t[i], SIGRTMIN + 1, v);
      CHECK(e == 0);
      sent[i] += v.sival_int;
    }
  }
  for (int i = 0; i < 4; i++) {
    while (atomic_load(&handled[i]) != sent[i]) sched_yield();
  }
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  printf("signal values handled %ld %ld %ld %ld\n", (long)handled[0], (long)handled[1],
         (long)handled[2], (long)handled[3]);

  CHECK(pipe(cancel_pipe) == 0);
  CHECK(pthread_create(&t[0], NULL, BlockedRead, NULL) == 0);
  CHECK(pthread_create(&t[1], NULL, BlockedCond, NULL) == 0);
  usleep(50000);
  pthread_cancel(t[0]);
  pthread_cancel(t[1]);
  void* r0;
  void* r1;
  pthread_join(t[0], &r0);
  pthread_join(t[1], &r1);
  printf("cancelled %d %d\n", r0 == PTHREAD_CANCELED, r1 == PTHREAD_CANCELED);
  // The mutex the cancelled waiter held was released by its cleanup.
  CHECK(pthread_mutex_trylock(&cm) == 0);
  printf("done\n");
  return 0;
}
