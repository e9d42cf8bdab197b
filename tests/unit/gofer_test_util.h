// Shared by the gofer tests: a temporary tree to serve, an in-process
// Gofer on a thread, raw protocol calls, and an IOSequence over a buffer.
#ifndef TESTS_UNIT_GOFER_TEST_UTIL_H_
#define TESTS_UNIT_GOFER_TEST_UTIL_H_

#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fs/vfs/iosequence.h"
#include "gofer/gofer.pb.h"
#include "gofer/server.h"
#include "gofer/wire.h"
#include "gtest/gtest.h"

namespace gofer_test {

// Size of big.bin: several page-cache chunks plus a partial page.
inline constexpr size_t kBigSize = 3 * 1024 * 1024 + 123;
inline uint8_t BigByte(size_t i) { return static_cast<uint8_t>((i * 131 + i / 4096) & 0xff); }

inline void WriteFile(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
}

inline std::string ReadHostFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// A fresh directory under /tmp with one of everything:
//   file.txt, dir/sub/nested.txt, big.bin, many/ (kManyEntries long names
//   when asked for: creating files is slow on some hosts),
//   link_rel -> file.txt, escape -> ../../etc/passwd, abs -> /etc/passwd,
//   dirlink -> dir, fifo.
inline constexpr int kManyEntries = 400;
// Long names, so many/ needs more than one ReadDir page.
inline std::string ManyName(int i) { return std::string(180, 'n') + "_" + std::to_string(i); }

class TempTree {
 public:
  explicit TempTree(bool fill_many = false) {
    char tmpl[] = "/tmp/gofer_test.XXXXXX";
    char* d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    path_ = d;
    WriteFile(P("file.txt"), "hello, gofer\n");
    mkdir(P("dir").c_str(), 0755);
    mkdir(P("dir/sub").c_str(), 0750);
    WriteFile(P("dir/sub/nested.txt"), "nested\n");
    std::string big(kBigSize, '\0');
    for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(BigByte(i));
    WriteFile(P("big.bin"), big);
    mkdir(P("many").c_str(), 0755);
    for (int i = 0; fill_many && i < kManyEntries; i++) WriteFile(P("many/" + ManyName(i)), "");
    EXPECT_EQ(symlink("file.txt", P("link_rel").c_str()), 0);
    EXPECT_EQ(symlink("../../etc/passwd", P("escape").c_str()), 0);
    EXPECT_EQ(symlink("/etc/passwd", P("abs").c_str()), 0);
    EXPECT_EQ(symlink("dir", P("dirlink").c_str()), 0);
    EXPECT_EQ(mkfifo(P("fifo").c_str(), 0644), 0);
  }
  ~TempTree() {
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); }, 64,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }
  std::string P(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Serves `root` on a thread over a socketpair; the test talks on fd().
class InProcessGofer {
 public:
  InProcessGofer(const std::string& root, bool read_only) {
    root_fd_ = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(root_fd_, 0);
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    client_fd_ = sv[0];
    server_fd_ = sv[1];
    gofer::ServerOptions o;
    o.read_only = read_only;
    thread_ = std::thread([this, o] { status_ = gofer::Serve(server_fd_, root_fd_, o); });
  }
  // Hands the client end to someone who will close it (the client FS).
  int TakeClientFd() { return std::exchange(client_fd_, -1); }
  int fd() const { return client_fd_; }
  // Closes our end (if still ours) and waits for the server to finish.
  void Stop() {
    if (client_fd_ >= 0) close(std::exchange(client_fd_, -1));
    if (thread_.joinable()) thread_.join();
  }
  ~InProcessGofer() {
    Stop();
    close(server_fd_);
    close(root_fd_);
  }
  const absl::Status& status() const { return status_; }

 private:
  int root_fd_ = -1, client_fd_ = -1, server_fd_ = -1;
  std::thread thread_;
  absl::Status status_;
};

// One raw round trip; returns the response's errno (or -1 on a transport
// failure).
inline int RawCall(int fd, gofer::pb::Request req, gofer::pb::Response* resp,
                   std::vector<gofer::UniqueFd>* fds = nullptr) {
  static uint64_t next_id = 1000;
  if (req.id() == 0) req.set_id(next_id++);
  if (gofer::SendMessage(fd, req, nullptr, 0) != 0) return -1;
  std::string buf;
  std::vector<gofer::UniqueFd> got;
  if (gofer::RecvDatagram(fd, &buf, &got) != 0) return -1;
  if (!resp->ParseFromString(buf)) return -1;
  if (resp->fd_count() != got.size()) return -1;
  if (fds) *fds = std::move(got);
  return resp->error();
}

// An IOSequence over a plain buffer (the VFS's BufferIOSequence lives in
// another branch).
class TestBuf : public sentry::IOSequence {
 public:
  explicit TestBuf(size_t n) : data_(n) {}
  explicit TestBuf(const std::string& s) : data_(s.begin(), s.end()) {}
  size_t remaining() const override { return data_.size() - pos_; }
  sentry::ErrorOr<size_t> CopyOut(const void* src, size_t n) override {
    n = std::min(n, remaining());
    memcpy(data_.data() + pos_, src, n);
    pos_ += n;
    return n;
  }
  sentry::ErrorOr<size_t> CopyIn(void* dst, size_t n) override {
    n = std::min(n, remaining());
    memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  // Hands out pieces of at most 1000 bytes, like scattered iovecs.
  sentry::ErrorOr<size_t> Blocks(size_t n, bool write, const BlockFn& fn) override {
    size_t total = 0;
    n = std::min(n, remaining());
    while (total < n) {
      size_t piece = std::min<size_t>(1000, n - total);
      auto used = fn(data_.data() + pos_, piece);
      if (!used.ok()) {
        if (total == 0) return used;
        break;
      }
      pos_ += *used;
      total += *used;
      if (*used < piece) break;
    }
    return total;
  }
  std::string consumed() const { return std::string(data_.begin(), data_.begin() + pos_); }

 private:
  std::vector<uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace gofer_test

#endif  // TESTS_UNIT_GOFER_TEST_UTIL_H_
