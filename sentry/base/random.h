// Randomness for the Sentry (ASLR offsets, AT_RANDOM, /dev/urandom):
// straight from the host's getrandom(2).
#ifndef SENTRY_BASE_RANDOM_H_
#define SENTRY_BASE_RANDOM_H_

#include <sys/random.h>

#include <cstddef>
#include <cstdint>

namespace sentry {

inline void RandomBytes(void* p, size_t n) {
  auto* b = static_cast<uint8_t*>(p);
  while (n > 0) {
    ssize_t r = getrandom(b, n, 0);
    if (r <= 0) continue;  // EINTR; getrandom never fails otherwise once seeded
    b += r;
    n -= static_cast<size_t>(r);
  }
}

inline uint64_t RandomU64() {
  uint64_t v;
  RandomBytes(&v, sizeof(v));
  return v;
}

}  // namespace sentry

#endif  // SENTRY_BASE_RANDOM_H_
