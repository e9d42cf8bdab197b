#include "tests/syscalls/test_util.h"

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <stdexcept>

namespace systest {

void ThrowErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + ErrnoString(errno));
}

FileDescriptor OpenOrThrow(const std::string& path, int flags, mode_t mode) {
  int fd = open(path.c_str(), flags, mode);
  if (fd < 0) ThrowErrno("open(" + path + ")");
  return FileDescriptor(fd);
}

Pipe MakePipe(int flags) {
  int fds[2];
  if (pipe2(fds, flags) != 0) ThrowErrno("pipe2");
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteAll(int fd, const std::string& data) {
  WriteAll(fd, data.data(), data.size());
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string TempBase() {
  const char* env = getenv("TEST_TMPDIR");
  if (env != nullptr && env[0] != '\0') return env;
  return "/tmp";
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string NewTempName(const std::string& parent) {
  static std::atomic<unsigned> counter{0};
  const std::string base = parent.empty() ? TempBase() : parent;
  for (;;) {
    std::string path =
        JoinPath(base, "systest." + std::to_string(getpid()) + "." +
                           std::to_string(counter.fetch_add(1)));
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) return path;
  }
}

TempPath TempPath::Dir(const std::string& parent) {
  std::string path = NewTempName(parent);
  if (mkdir(path.c_str(), 0755) != 0) ThrowErrno("mkdir(" + path + ")");
  // mkdir's mode is filtered by the umask; tests expect exactly 0755.
  if (chmod(path.c_str(), 0755) != 0) ThrowErrno("chmod(" + path + ")");
  return TempPath(path);
}

TempPath TempPath::File(const std::string& content, const std::string& parent,
                        mode_t mode) {
  std::string path = NewTempName(parent);
  FileDescriptor fd = OpenOrThrow(path, O_CREAT | O_EXCL | O_WRONLY, mode);
  TempPath result(path);
  WriteAll(fd.get(), content);
  if (fchmod(fd.get(), mode) != 0) ThrowErrno("fchmod(" + path + ")");
  return result;
}

void TempPath::Remove() {
  if (!path_.empty()) RemoveRecursively(path_);
  path_.clear();
}

void RemoveRecursively(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    // Tests may leave directories without write or search permission.
    chmod(path.c_str(), 0700);
    if (DIR* dir = opendir(path.c_str())) {
      while (struct dirent* ent = readdir(dir)) {
        std::string name = ent->d_name;
        if (name == "." || name == "..") continue;
        RemoveRecursively(JoinPath(path, name));
      }
      closedir(dir);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

namespace {

thread_local sigjmp_buf* t_fault_jump = nullptr;
thread_local Fault t_fault;

void FaultHandler(int signo, siginfo_t* info, void*) {
  if (t_fault_jump == nullptr) {
    // Not expected here: fall back to the default action.
    signal(signo, SIG_DFL);
    return;
  }
  t_fault.signo = signo;
  t_fault.code = info->si_code;
  t_fault.addr = info->si_addr;
  siglongjmp(*t_fault_jump, 1);
}

}  // namespace

std::optional<Fault> CatchFault(const std::function<void()>& fn) {
  struct sigaction sa = {}, old_segv, old_bus;
  sa.sa_sigaction = FaultHandler;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &old_segv) != 0) ThrowErrno("sigaction");
  if (sigaction(SIGBUS, &sa, &old_bus) != 0) ThrowErrno("sigaction");
  sigjmp_buf jump;
  std::optional<Fault> result;
  if (sigsetjmp(jump, 1) == 0) {
    t_fault_jump = &jump;
    fn();
  } else {
    result = t_fault;
  }
  t_fault_jump = nullptr;
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGBUS, &old_bus, nullptr);
  return result;
}

std::optional<Fault> TryRead(const void* addr) {
  return CatchFault([addr] {
    char c = *static_cast<const volatile char*>(addr);
    (void)c;
  });
}

std::optional<Fault> TryWrite(void* addr, char value) {
  return CatchFault(
      [addr, value] { *static_cast<volatile char*>(addr) = value; });
}

int WaitForStatus(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, __WALL);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    return -1;
  }
}

int ForkAndWait(const std::function<void()>& fn) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    // An exception must not unwind into gtest: the child would go on to run
    // the rest of the suite.
    try {
      fn();
    } catch (const std::exception& e) {
      fprintf(stderr, "exception in child: %s\n", e.what());
      _exit(1);
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = WaitForStatus(pid);
  if (status == -1) ThrowErrno("waitpid");
  return status;
}

void DropPrivilegesInChild() {
  if (geteuid() != 0) return;
  TEST_CHECK_SUCCESS(setgroups(0, nullptr));
  TEST_CHECK_SUCCESS(setresgid(kNobody, kNobody, kNobody));
  TEST_CHECK_SUCCESS(setresuid(kNobody, kNobody, kNobody));
  TEST_CHECK(geteuid() == kNobody);
}

void ChildCheckFailed(const char* file, int line, const char* what, int err) {
  char buf[1024];
  int n = snprintf(buf, sizeof(buf), "%s:%d: child check failed: %s (errno %s)\n",
                   file, line, what, ErrnoString(err).c_str());
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, buf,
                            static_cast<size_t>(n) < sizeof(buf)
                                ? static_cast<size_t>(n)
                                : sizeof(buf) - 1);
    (void)ignored;
  }
  _exit(1);
}

std::string FdLink(int fd) {
  char link[PATH_MAX] = {};
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link) - 1);
  if (n < 0) {
    ADD_FAILURE() << "readlink " << proc << ": " << strerror(errno);
    return "";
  }
  return std::string(link, static_cast<size_t>(n));
}

}  // namespace systest
