#include "fs/gofer/client.h"

#include <algorithm>

#include "sentry/base/log.h"

namespace sentry::goferfs {
namespace {
// Past this many queued clunks the releasing thread sends them itself, so
// an idle connection does not pin thousands of host fds in the Gofer.
constexpr size_t kMaxQueuedClunks = 128;
}  // namespace

ErrorOr<std::shared_ptr<Client>> Client::New(int sock_fd, int channels) {
  std::shared_ptr<Client> c(new Client());
  {
    absl::MutexLock l(&c->mu_);
    c->channels_.push_back(std::make_unique<Channel>());
    c->channels_.back()->fd.reset(sock_fd);
    c->free_.push_back(c->channels_.back().get());
  }
  for (int i = 1; i < channels; i++) {
    pb::Request req;
    req.mutable_new_channel();
    pb::Response resp;
    std::vector<UniqueFd> fds;
    Errno e = c->Call(req, &resp, &fds);
    if (e == EMFILE) break;  // the Gofer's limit: use what we have
    if (e != 0) return Err(e);
    if (fds.size() != 1) return Err(EIO);
    absl::MutexLock l(&c->mu_);
    c->channels_.push_back(std::make_unique<Channel>());
    c->channels_.back()->fd = std::move(fds[0]);
    c->free_.push_back(c->channels_.back().get());
  }
  return c;
}

int Client::channel_count() {
  absl::MutexLock l(&mu_);
  return static_cast<int>(channels_.size());
}

Client::Channel* Client::Acquire() {
  absl::MutexLock l(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !free_.empty() || channels_.empty();
  };
  mu_.Await(absl::Condition(&ready));
  if (free_.empty()) return nullptr;
  Channel* c = free_.back();
  free_.pop_back();
  return c;
}

void Client::Release(Channel* c, bool broken) {
  absl::MutexLock l(&mu_);
  if (!broken) {
    free_.push_back(c);
    return;
  }
  // A channel that lost its framing (or its peer) is closed for good.
  SLOG(kWarning, "gofer client: channel fd %d failed; %d left", c->fd.get(),
       static_cast<int>(channels_.size()) - 1);
  channels_.erase(std::find_if(channels_.begin(), channels_.end(),
                               [c](const auto& p) { return p.get() == c; }));
}

void Client::FlushClunks(Channel* c) {
  pb::Request req;
  {
    absl::MutexLock l(&mu_);
    if (clunks_.empty()) return;
    for (uint64_t fid : clunks_) req.mutable_clunk()->add_fids(fid);
    clunks_.clear();
  }
  req.set_id(next_id_.fetch_add(1));
  req.set_no_reply(true);
  // Best effort: a lost clunk costs the Gofer one fd until disconnect.
  (void)::gofer::SendMessage(c->fd.get(), req, nullptr, 0);
}

void Client::Clunk(uint64_t fid) {
  {
    absl::MutexLock l(&mu_);
    clunks_.push_back(fid);
    if (clunks_.size() < kMaxQueuedClunks) return;
  }
  Channel* c = Acquire();
  if (c == nullptr) return;
  FlushClunks(c);
  Release(c, false);
}

Errno Client::Call(pb::Request& req, pb::Response* resp, std::vector<UniqueFd>* fds) {
  Channel* c = Acquire();
  if (c == nullptr) return EIO;
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  FlushClunks(c);
  bool broken = false;
  Errno e = RoundTrip(c, req, resp, fds, &broken);
  Release(c, broken);
  return e;
}

Errno Client::RoundTrip(Channel* c, pb::Request& req, pb::Response* resp,
                        std::vector<UniqueFd>* fds, bool* broken) {
  req.set_id(next_id_.fetch_add(1));
  resp->Clear();
  int e = ::gofer::SendMessage(c->fd.get(), req, nullptr, 0);
  if (e == EMSGSIZE) return ENAMETOOLONG;  // only huge names/values get here
  // From here on, a transport failure leaves the channel's framing
  // unknown: it is retired.
  *broken = true;
  if (e != 0) return EIO;
  std::string buf;
  std::vector<UniqueFd> got;
  for (;;) {
    got.clear();
    e = ::gofer::RecvDatagram(c->fd.get(), &buf, &got);
    if (e != 0) return EIO;
    pb::Response r;
    if (!r.ParseFromString(buf)) return EIO;
    // Only our response can come on a channel we hold; anything else is a
    // leftover of an earlier failure and is skipped.
    if (r.id() == req.id()) {
      *resp = std::move(r);
      break;
    }
    if (r.id() == 0) {  // the Gofer could not read our request
      *broken = false;
      return EINVAL;
    }
  }
  if (resp->fd_count() != got.size()) return EIO;
  *broken = false;
  if (resp->error() != 0) return resp->error();
  if (fds != nullptr) {
    for (auto& f : got) fds->push_back(std::move(f));
  }
  return 0;
}

vfs::Attr AttrFromProto(const pb::Attr& a, uint64_t dev) {
  vfs::Attr o;
  o.dev = dev;
  o.ino = a.ino();
  o.mode = a.mode();
  o.nlink = static_cast<uint32_t>(std::min<uint64_t>(a.nlink(), UINT32_MAX));
  o.uid = a.uid();
  o.gid = a.gid();
  o.rdev = a.rdev();
  o.size = a.size();
  o.blocks = a.blocks();
  o.blksize = a.blksize() ? a.blksize() : 4096;
  o.atime = {a.atime().sec(), a.atime().nsec()};
  o.mtime = {a.mtime().sec(), a.mtime().nsec()};
  o.ctime = {a.ctime().sec(), a.ctime().nsec()};
  return o;
}

}  // namespace sentry::goferfs
