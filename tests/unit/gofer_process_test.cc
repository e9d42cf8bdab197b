// The Gofer as `runsc gofer` runs it: in its own mount namespace, pivoted
// into the served directory, under seccomp. Each test forks a child to be
// the Gofer (the set-up changes process-wide state for good).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_format.h"
#include "fs/gofer/filesystem.h"
#include "fs/gofer/inode.h"
#include "gofer/process.h"
#include "gofer/seccomp.h"
#include "gofer_test_util.h"
#include "sentry/mm/memory_file.h"

namespace gofer_test {
namespace {

// Can this process make a mount namespace? (Probed in a child so the
// test process keeps its own.)
bool CanUnshareMounts() {
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWNS) == 0 ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Waits up to ~10 s for `pid`; kills it if it is still running.
int WaitChild(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 1000; i++) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

std::string ReadProc(pid_t pid, const char* what) {
  std::ifstream in(absl::StrFormat("/proc/%d/%s", pid, what));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Forks a child that runs RunGoferProcess on `root`; returns its pid and
// our end of its socket.
pid_t SpawnGofer(const std::string& root, bool read_only, int* client_fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    gofer::GoferProcessOptions o;
    o.root = root;
    o.read_only = read_only;
    o.sock_fds = {sv[1]};
    absl::Status s = gofer::RunGoferProcess(o);
    if (!s.ok()) {
      std::string msg = s.ToString() + "\n";
      (void)!write(2, msg.data(), msg.size());
    }
    _exit(s.ok() ? 0 : 1);
  }
  close(sv[1]);
  *client_fd = sv[0];
  return pid;
}

std::string StatusField(const std::string& status, const std::string& field) {
  size_t p = status.find(field + ":");
  if (p == std::string::npos) return "";
  size_t s = status.find_first_not_of(" \t", p + field.size() + 1);
  return status.substr(s, status.find('\n', s) - s);
}

TEST(GoferProcessTest, ServesOnlyItsRootUnderSeccomp) {
  if (!CanUnshareMounts()) GTEST_SKIP() << "unshare(CLONE_NEWNS) is not permitted here";
  TempTree tree(/*fill_many=*/true);
  int sock = -1;
  pid_t pid = SpawnGofer(tree.path(), /*read_only=*/true, &sock);
  ASSERT_GT(pid, 0);
  auto mf = sentry::MemoryFile::Create(1ull << 28);
  ASSERT_TRUE(mf.ok());
  sentry::goferfs::GoferClientOptions co;
  auto fs = sentry::goferfs::NewGoferFilesystem(sock, mf->get(), co);
  ASSERT_TRUE(fs.ok()) << fs.error();
  auto root = sentry::goferfs::GoferRootInode(**fs);

  // The child is confined: one mount (the served tree, read-only, nodev,
  // nosuid) and nothing else in its namespace; no new privileges; seccomp
  // on; only the capabilities it needs.
  std::string mountinfo = ReadProc(pid, "mountinfo");
  EXPECT_EQ(std::count(mountinfo.begin(), mountinfo.end(), '\n'), 1) << mountinfo;
  EXPECT_NE(mountinfo.find(" / ro,nosuid,nodev"), std::string::npos) << mountinfo;
  std::string status = ReadProc(pid, "status");
  EXPECT_EQ(StatusField(status, "Seccomp"), "2");
  EXPECT_EQ(StatusField(status, "NoNewPrivs"), "1");
  EXPECT_EQ(std::stoull(StatusField(status, "CapEff"), nullptr, 16) & ~gofer::GoferCapabilities(true),
            0u);
  // Its "/" is our temp dir: same entries, nothing else.
  std::set<std::string> served;
  auto list = root->ReadDir();
  ASSERT_TRUE(list.ok());
  for (auto& e : *list) served.insert(e.name);
  EXPECT_EQ(served, (std::set<std::string>{"file.txt", "dir", "big.bin", "many", "link_rel",
                                            "escape", "abs", "dirlink", "fifo"}));
  EXPECT_EQ(root->Lookup("etc").error(), ENOENT);
  EXPECT_EQ(root->Lookup("proc").error(), ENOENT);
  // Symlinks that point out of the tree stay text; opening them is ELOOP.
  auto esc = root->Lookup("escape");
  ASSERT_TRUE(esc.ok());
  EXPECT_EQ(*(*esc)->ReadLink(), "../../etc/passwd");
  EXPECT_EQ((*esc)->Open({O_RDONLY}).error(), ELOOP);
  // Data still flows, by donated fd.
  auto f = root->Lookup("file.txt");
  ASSERT_TRUE(f.ok());
  auto file = (*f)->Open({O_RDONLY});
  ASSERT_TRUE(file.ok()) << file.error();
  (*file)->Init({}, O_RDONLY);
  TestBuf b(64);
  ASSERT_EQ((*file)->PRead(nullptr, b, 0).value(), 13);
  EXPECT_EQ(b.consumed(), "hello, gofer\n");
  // Writes are refused twice over: by the client and by the mount.
  EXPECT_EQ((*f)->Open({O_RDWR}).error(), EROFS);
  // Every other read-only request passes the seccomp filter (a missing
  // rule would kill the Gofer: EIO here).
  struct statfs sfs;
  EXPECT_EQ((*fs)->StatFS(&sfs), 0);
  EXPECT_EQ((*f)->GetXattr("user.none").error(), ENODATA);
  EXPECT_TRUE((*f)->ListXattr().ok());
  auto many = root->Lookup("many");
  ASSERT_TRUE(many.ok());
  auto entries = (*many)->ReadDir();  // several pages: lseek to cookies
  ASSERT_TRUE(entries.ok()) << entries.error();
  EXPECT_EQ(entries->size(), static_cast<size_t>(kManyEntries));
  auto big = root->Lookup("big.bin");
  ASSERT_TRUE(big.ok());
  auto* gbig = static_cast<sentry::goferfs::GoferInode*>(big->get());
  auto r = gbig->Translate(0, 1 << 20, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*mf)->Internal(r->start)[4097], BigByte(4097));
  (*mf)->DecRef(*r);
  many->reset();
  big->reset();
  file->reset();
  f->reset();
  esc->reset();
  root.reset();
  fs->reset();  // hang up: the Gofer exits cleanly
  int st = WaitChild(pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
}

// `runsc do`: the host's "/" served read-only. Files are there; the
// host's /proc, /sys and /dev mounts are not (the Sentry has its own).
TEST(GoferProcessTest, ServingHostRootHidesHostOnlyMounts) {
  if (!CanUnshareMounts()) GTEST_SKIP() << "unshare(CLONE_NEWNS) is not permitted here";
  int sock = -1;
  pid_t pid = SpawnGofer("/", /*read_only=*/true, &sock);
  ASSERT_GT(pid, 0);
  auto mf = sentry::MemoryFile::Create(1ull << 28);
  ASSERT_TRUE(mf.ok());
  {
    auto fs = sentry::goferfs::NewGoferFilesystem(sock, mf->get(), {});
    ASSERT_TRUE(fs.ok()) << fs.error();
    auto root = sentry::goferfs::GoferRootInode(**fs);
    std::string mountinfo = ReadProc(pid, "mountinfo");
    for (const char* type : {" - proc ", " - sysfs ", " - devtmpfs ", " - cgroup"}) {
      EXPECT_EQ(mountinfo.find(type), std::string::npos) << type << " in\n" << mountinfo;
    }
    auto etc = root->Lookup("etc");
    ASSERT_TRUE(etc.ok());
    auto passwd = (*etc)->Lookup("passwd");
    ASSERT_TRUE(passwd.ok());
    auto file = (*passwd)->Open({O_RDONLY});
    ASSERT_TRUE(file.ok()) << file.error();
    (*file)->Init({}, O_RDONLY);
    TestBuf b(1 << 16);
    ASSERT_TRUE((*file)->PRead(nullptr, b, 0).ok());
    EXPECT_EQ(b.consumed(), ReadHostFile("/etc/passwd"));
    auto proc = root->Lookup("proc");
    if (proc.ok()) {
      EXPECT_EQ((*proc)->Lookup("self").error(), ENOENT);
    }
    auto sys = root->Lookup("sys");
    if (sys.ok()) {
      EXPECT_EQ((*sys)->Lookup("kernel").error(), ENOENT);
    }
    EXPECT_EQ((*passwd)->Open({O_WRONLY}).error(), EROFS);
  }
  int st = WaitChild(pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
}

// A writable Gofer process: every mutation passes its allowlist and lands
// on the host.
TEST(GoferProcessTest, WritableGoferMutatesUnderSeccomp) {
  if (!CanUnshareMounts()) GTEST_SKIP() << "unshare(CLONE_NEWNS) is not permitted here";
  TempTree tree;
  int sock = -1;
  pid_t pid = SpawnGofer(tree.path(), /*read_only=*/false, &sock);
  ASSERT_GT(pid, 0);
  auto mf = sentry::MemoryFile::Create(1ull << 28);
  ASSERT_TRUE(mf.ok());
  {
    auto fs = sentry::goferfs::NewGoferFilesystem(sock, mf->get(), {});
    ASSERT_TRUE(fs.ok()) << fs.error();
    auto root = sentry::goferfs::GoferRootInode(**fs);
    auto d = root->CreateChild("d", S_IFDIR | 0750, 0, 0, 0);
    ASSERT_TRUE(d.ok()) << d.error();
    auto f = (*d)->CreateChild("f", S_IFREG | 0604, 0, 1000, 1000);
    ASSERT_TRUE(f.ok()) << f.error();
    auto file = (*f)->Open({O_RDWR | O_TRUNC});
    ASSERT_TRUE(file.ok()) << file.error();
    (*file)->Init({}, O_RDWR);
    TestBuf src(std::string("data"));
    ASSERT_EQ((*file)->PWrite(nullptr, src, 0).value(), 4);
    ASSERT_TRUE((*d)->CreateSymlink("s", "/etc/passwd", 0, 0).ok());
    ASSERT_TRUE((*d)->CreateChild("p", S_IFIFO | 0600, 0, 0, 0).ok());
    ASSERT_EQ((*d)->Link("hard", *f), 0);
    ASSERT_EQ((*d)->Rename("hard", root.get(), "moved", 0), 0);
    ASSERT_EQ(root->Unlink("moved"), 0);
    sentry::vfs::SetAttr sa;
    sa.mask = sentry::vfs::SetAttr::kMode | sentry::vfs::SetAttr::kUid |
              sentry::vfs::SetAttr::kAtime | sentry::vfs::SetAttr::kMtime;
    sa.mode = 0640;
    sa.uid = 2000;
    sa.atime = {1, 0};
    sa.mtime = {2, 0};
    ASSERT_EQ((*f)->SetAttrs(sa), 0);
    sentry::vfs::SetAttr tr;
    tr.mask = sentry::vfs::SetAttr::kSize;
    tr.size = 2;
    auto other = root->Lookup("file.txt");
    ASSERT_TRUE(other.ok());
    ASSERT_EQ((*other)->SetAttrs(tr), 0);  // no write fd yet: the Gofer truncates
    int xe = (*f)->SetXattr("user.k", "v", 0);
    EXPECT_TRUE(xe == 0 || xe == EOPNOTSUPP) << xe;
    if (xe == 0) {
      EXPECT_EQ((*f)->RemoveXattr("user.k"), 0);
    }
    EXPECT_EQ((*d)->Unlink("p"), 0);
    EXPECT_EQ((*d)->CreateChild("dev", S_IFBLK | 0600, 0x0801, 0, 0).error(), EPERM);
  }
  int st = WaitChild(pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  EXPECT_EQ(ReadHostFile(tree.P("d/f")), "data");
  EXPECT_EQ(ReadHostFile(tree.P("file.txt")), "he");
  struct stat s;
  ASSERT_EQ(stat(tree.P("d/f").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 07777, 0640u);
  EXPECT_EQ(s.st_uid, 2000u);
  EXPECT_EQ(s.st_mtim.tv_sec, 2);
  char buf[32] = {};
  ASSERT_GT(readlink(tree.P("d/s").c_str(), buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "/etc/passwd");
  EXPECT_EQ(access(tree.P("moved").c_str(), F_OK), -1);
}

TEST(GoferProcessTest, SeccompKillsForbiddenSyscalls) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) _exit(2);
    if (!gofer::InstallSeccompFilter(gofer::GoferSeccompRules(/*read_only=*/true)).ok()) _exit(3);
    // Allowed: close of a bad fd just fails.
    if (close(-1) != -1 || errno != EBADF) _exit(4);
    // Not allowed in read-only mode: a write-mode open, then any socket.
    syscall(SYS_openat, AT_FDCWD, "/tmp/should-not-exist", O_WRONLY | O_CREAT, 0600);
    _exit(5);
  }
  int st = WaitChild(pid);
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(GoferProcessTest, AllowlistIsSmallAndExplained) {
  auto ro = gofer::GoferSeccompRules(true);
  auto rw = gofer::GoferSeccompRules(false);
  EXPECT_LE(ro.size(), 30u);
  EXPECT_LE(rw.size(), 45u);
  EXPECT_GT(rw.size(), ro.size());
  for (const auto& r : rw) EXPECT_GT(strlen(r.reason), 5u) << r.name;
  std::string text = gofer::FormatSeccompRules(ro);
  EXPECT_NE(text.find("openat"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(ro.size()));
  EXPECT_EQ(text.find("mkdirat"), std::string::npos);  // no mutations when read-only
}

}  // namespace
}  // namespace gofer_test
