// Shared helpers of the syscall tests (tests/syscalls/*_test.cc).
//
// Owns: the syscall result matchers, scoped file descriptors, temporary
// files and directories, and the fork-and-check helper. Nothing here locks.
//
// Every test program is run twice by ctest: natively on the host kernel and
// inside the sandbox (`runsc do`). The helpers therefore use only plain
// syscalls and never depend on /proc, /sys or on test-runner features that
// re-exec the binary (gtest death tests do; ForkAndWait does not).

#ifndef TESTS_SYSCALLS_TEST_UTIL_H_
#define TESTS_SYSCALLS_TEST_UTIL_H_

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace systest {

// ---------------------------------------------------------------------------
// Syscall matchers.
//
// A syscall wrapper reports failure as -1 (or MAP_FAILED for mmap) with the
// reason in errno. The matchers read errno first thing: EXPECT_THAT evaluates
// the call after constructing the matcher and runs the matcher right after
// the call, so nothing in between can overwrite errno.

template <typename T>
bool IsSyscallFailure(const T& value) {
  if constexpr (std::is_pointer_v<T>) {
    return value == reinterpret_cast<T>(-1);
  } else {
    return value == static_cast<T>(-1);
  }
}

inline std::string ErrnoString(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name != nullptr ? name : "E?") + " (" +
         std::to_string(err) + ", " + strerror(err) + ")";
}

// The call succeeded: it did not return -1/MAP_FAILED.
MATCHER(SyscallSucceeds, "succeeds") {
  const int err = errno;
  if (IsSyscallFailure(arg)) {
    *result_listener << "failed with errno " << ErrnoString(err);
    return false;
  }
  return true;
}

// The call succeeded and its value matches `value` (a value or a matcher,
// e.g. SyscallSucceedsWithValue(4) or SyscallSucceedsWithValue(Ge(0))).
MATCHER_P(SyscallSucceedsWithValue, value,
          "succeeds with a value that " +
              ::testing::DescribeMatcher<std::decay_t<arg_type>>(value)) {
  const int err = errno;
  using T = std::decay_t<arg_type>;
  if (IsSyscallFailure(arg)) {
    *result_listener << "failed with errno " << ErrnoString(err);
    return false;
  }
  return ::testing::SafeMatcherCast<const T&>(value).MatchAndExplain(
      arg, result_listener);
}

// The call failed, with any errno.
MATCHER(SyscallFails, "fails") {
  const int err = errno;
  if (!IsSyscallFailure(arg)) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << "failed with errno " << ErrnoString(err);
  return true;
}

// The call failed and errno equals `expected`.
MATCHER_P(SyscallFailsWithErrno, expected,
          "fails with errno " + ErrnoString(expected)) {
  const int err = errno;
  if (!IsSyscallFailure(arg)) {
    *result_listener << "succeeded";
    return false;
  }
  if (err != expected) {
    *result_listener << "failed with errno " << ErrnoString(err);
    return false;
  }
  return true;
}

// Hides a value from the optimizer, for calls that pass deliberately bad
// arguments (a null buffer, a negative count) that the compiler would
// otherwise diagnose at compile time.
template <typename T>
T Opaque(T value) {
  asm volatile("" : "+r"(value));
  return value;
}

// Matchers of a wait status (from waitpid/wait4/ForkAndWait).
MATCHER_P(ExitedWithCode, code,
          "exited with code " + std::to_string(code)) {
  if (!WIFEXITED(arg)) {
    if (WIFSIGNALED(arg)) {
      *result_listener << "was killed by signal " << WTERMSIG(arg) << " ("
                       << strsignal(WTERMSIG(arg)) << ")";
    } else {
      *result_listener << "has wait status 0x" << std::hex << arg;
    }
    return false;
  }
  *result_listener << "exited with code " << WEXITSTATUS(arg);
  return WEXITSTATUS(arg) == code;
}

MATCHER_P(KilledBySignal, sig,
          std::string("was killed by signal ") + strsignal(sig)) {
  if (!WIFSIGNALED(arg)) {
    if (WIFEXITED(arg)) {
      *result_listener << "exited with code " << WEXITSTATUS(arg);
    } else {
      *result_listener << "has wait status 0x" << std::hex << arg;
    }
    return false;
  }
  *result_listener << "was killed by signal " << WTERMSIG(arg);
  return WTERMSIG(arg) == sig;
}

// ---------------------------------------------------------------------------
// Scoped file descriptor.

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    reset(other.release());
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Helpers that set up a test throw on failure: gtest reports the exception
// (with its message) as a failure of the running test.
[[noreturn]] void ThrowErrno(const std::string& what);

// Where /proc/self/fd/<fd> points ("anon_inode:[eventfd]", a path, ...);
// a failed readlink is a test failure and gives "".
std::string FdLink(int fd);

// open(2) that throws on failure.
FileDescriptor OpenOrThrow(const std::string& path, int flags,
                           mode_t mode = 0644);

// A pipe; fds[0] is the read end.
struct Pipe {
  FileDescriptor read_end;
  FileDescriptor write_end;
};
Pipe MakePipe(int flags = 0);

// Writes all of `data` or throws.
void WriteAll(int fd, const void* data, size_t size);
void WriteAll(int fd, const std::string& data);
// Reads until EOF.
std::string ReadAll(int fd);

// ---------------------------------------------------------------------------
// Temporary files and directories, removed (recursively) on destruction.

// The base directory: $TEST_TMPDIR if set, else /tmp.
std::string TempBase();

// Joins two path components with one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

class TempPath {
 public:
  TempPath() = default;
  explicit TempPath(std::string path) : path_(std::move(path)) {}
  TempPath(TempPath&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  TempPath& operator=(TempPath&& other) noexcept {
    Remove();
    path_ = std::exchange(other.path_, "");
    return *this;
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() { Remove(); }

  // A new empty directory (mode 0755) under `parent` (default TempBase()).
  static TempPath Dir(const std::string& parent = "");
  // A new regular file under `parent` holding `content`.
  static TempPath File(const std::string& content = "",
                       const std::string& parent = "", mode_t mode = 0644);

  const std::string& path() const { return path_; }
  const char* c_str() const { return path_.c_str(); }
  // A path under this directory (not created).
  std::string Child(const std::string& name) const {
    return JoinPath(path_, name);
  }
  std::string release() { return std::exchange(path_, ""); }

 private:
  void Remove();
  std::string path_;
};

// Removes `path` and, if a directory, everything below it. Best effort.
void RemoveRecursively(const std::string& path);

// A fresh unique name under `parent` that does not exist yet.
std::string NewTempName(const std::string& parent = "");

// ---------------------------------------------------------------------------
// Memory faults.

// What the kernel reported for a synchronous SIGSEGV or SIGBUS.
struct Fault {
  int signo = 0;
  int code = 0;           // si_code: SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR...
  void* addr = nullptr;   // si_addr
};

// Runs `fn` with SIGSEGV and SIGBUS handlers installed. Returns the first
// fault it raised (execution resumes here, abandoning `fn`), or nullopt if
// it completed. Faults are caught per thread; the previous handlers are
// restored afterwards.
std::optional<Fault> CatchFault(const std::function<void()>& fn);

// Loads / stores one byte at `addr`, catching the fault if it faults.
std::optional<Fault> TryRead(const void* addr);
std::optional<Fault> TryWrite(void* addr, char value = 1);

// ---------------------------------------------------------------------------
// Child processes.

// How long a forked child may run before its watchdog alarm kills it.
inline constexpr unsigned kChildWatchdogSeconds = 60;

// Forks; the child runs `fn` and then _exit(0)s. Returns the child's wait
// status (ExitedWithCode/KilledBySignal match it). The child arms an
// alarm(kChildWatchdogSeconds) first so a hang fails the test instead of the
// whole run. In the child, check with TEST_CHECK* (they _exit(1) on failure
// after printing where); never use gtest assertions there.
int ForkAndWait(const std::function<void()>& fn);

// Waits for `pid` (retrying EINTR) and returns its status, -1 on error.
int WaitForStatus(pid_t pid);

// Owns a child process: unless Wait() reaped it, the destructor SIGKILLs and
// reaps it, so a failed ASSERT cannot leave a stopped or blocked child.
class ScopedChild {
 public:
  explicit ScopedChild(pid_t pid) : pid_(pid) {}
  ScopedChild(const ScopedChild&) = delete;
  ScopedChild& operator=(const ScopedChild&) = delete;
  ~ScopedChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      WaitForStatus(pid_);
    }
  }
  pid_t pid() const { return pid_; }
  // Reaps the child and returns its wait status.
  int Wait() { return WaitForStatus(std::exchange(pid_, -1)); }

 private:
  pid_t pid_;
};

// In a child: drop to uid/gid 65534 (nobody) with no supplementary groups
// and no capabilities, when running as root. Exits the child on failure.
void DropPrivilegesInChild();
inline constexpr uid_t kNobody = 65534;

// Skips the current test unless it runs as root: tests of what another,
// unprivileged user may do need root to create files that user does not own.
#define SKIP_IF_NOT_ROOT()                                                  \
  do {                                                                      \
    if (geteuid() != 0) {                                                   \
      GTEST_SKIP() << "needs root to act as a second, unprivileged user";   \
    }                                                                       \
  } while (0)

[[noreturn]] void ChildCheckFailed(const char* file, int line,
                                   const char* what, int err);

}  // namespace systest

// Checks for use inside a forked child: on failure they print the location,
// the expression and errno to stderr and _exit(1).
#define TEST_CHECK(cond)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      ::systest::ChildCheckFailed(__FILE__, __LINE__, #cond, errno);  \
    }                                                                 \
  } while (0)

#define TEST_CHECK_SUCCESS(expr)                                       \
  do {                                                                 \
    errno = 0;                                                         \
    if (::systest::IsSyscallFailure(expr)) {                           \
      ::systest::ChildCheckFailed(__FILE__, __LINE__, #expr, errno);   \
    }                                                                  \
  } while (0)

#define TEST_CHECK_ERRNO(expr, expected)                                  \
  do {                                                                    \
    errno = 0;                                                            \
    if (!::systest::IsSyscallFailure(expr) || errno != (expected)) {      \
      ::systest::ChildCheckFailed(__FILE__, __LINE__,                     \
                                  #expr " fails with " #expected, errno); \
    }                                                                     \
  } while (0)

#define TEST_CHECK_VALUE(expr, expected)                                 \
  do {                                                                   \
    errno = 0;                                                           \
    if ((expr) != (expected)) {                                          \
      ::systest::ChildCheckFailed(__FILE__, __LINE__,                    \
                                  #expr " == " #expected, errno);        \
    }                                                                    \
  } while (0)

#endif  // TESTS_SYSCALLS_TEST_UTIL_H_
