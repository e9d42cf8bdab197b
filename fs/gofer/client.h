// Client: the Sentry's side of the gofer connection (gofer/gofer.proto).
//
// A pool of channels (SOCK_SEQPACKET sockets to the Gofer) lets many tasks
// have round trips in flight at once: a call takes a free channel, sends,
// waits for its own response there, and gives the channel back. The pool
// is filled at start (NewChannel requests), so the Gofer's event loop
// sees concurrent requests rather than a queue behind one lock.
//
// Fids are released without a round trip: Clunk() queues them and the
// next call sends the batch first as a no-reply Clunk.
//
// Lock order: Client::mu_ is a leaf (never held during I/O).
#ifndef FS_GOFER_CLIENT_H_
#define FS_GOFER_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/types.h"
#include "gofer/gofer.pb.h"
#include "gofer/wire.h"
#include "sentry/base/error.h"

namespace sentry::goferfs {

namespace pb = ::gofer::pb;
using ::gofer::UniqueFd;

class Client {
 public:
  // Takes ownership of `sock_fd` and opens up to `channels` - 1 more.
  static ErrorOr<std::shared_ptr<Client>> New(int sock_fd, int channels);
  Client(const Client&) = delete;

  // One round trip. Sets req.id, returns the transport errno (EIO when
  // the Gofer is gone or answers nonsense) or the response's errno. The
  // descriptors the response carries land in `fds` (closed if null).
  Errno Call(pb::Request& req, pb::Response* resp, std::vector<UniqueFd>* fds = nullptr);

  // Releases `fid` later, in a batch.
  void Clunk(uint64_t fid);

  int channel_count();
  // Round trips made so far (tests check what the caches save).
  uint64_t round_trips() const { return round_trips_.load(std::memory_order_relaxed); }

 private:
  Client() = default;
  struct Channel {
    UniqueFd fd;
  };
  // Waits for a free channel; null when every channel has failed.
  Channel* Acquire();
  void Release(Channel* c, bool broken);
  // Sends pending clunks on `c` (which the caller holds).
  void FlushClunks(Channel* c);
  Errno RoundTrip(Channel* c, pb::Request& req, pb::Response* resp, std::vector<UniqueFd>* fds,
                  bool* broken);

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  std::vector<Channel*> free_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> clunks_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> round_trips_{0};
};

// Wire attributes -> VFS attributes (dev is the sandbox's, not the host's).
vfs::Attr AttrFromProto(const pb::Attr& a, uint64_t dev);

}  // namespace sentry::goferfs

#endif  // FS_GOFER_CLIENT_H_
