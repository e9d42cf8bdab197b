#include "fs/socket/unix_endpoint.h"

#include <poll.h>

#include <algorithm>

namespace sentry::vfs::unixsock {
namespace {

bool SameCreds(const struct ucred& a, const struct ucred& b) {
  return a.pid == b.pid && a.uid == b.uid && a.gid == b.gid;
}

}  // namespace

Endpoint::~Endpoint() = default;

std::optional<SockAddr> Endpoint::name() {
  absl::MutexLock l(&mu_);
  return name_;
}

bool Endpoint::SetName(const SockAddr& a) {
  absl::MutexLock l(&mu_);
  if (name_) return false;
  name_ = a;
  return true;
}

void Endpoint::Attach(const EndpointPtr& peer, struct ucred peer_cred) {
  {
    absl::MutexLock l(&mu_);
    peer_ = peer;
    peer_cred_ = peer_cred;
    // A close of the peer that raced ahead (its listener went away) has
    // already shut this side down; the connection still counts as made.
    state_ = State::kConnected;
  }
  wq_.Notify(POLLOUT | POLLWRNORM);
}

Errno Endpoint::Listen(int backlog) {
  absl::MutexLock l(&mu_);
  if (!connection_based()) return EOPNOTSUPP;
  if (state_ != State::kUnconnected && state_ != State::kListening) return EINVAL;
  if (!name_) return EINVAL;  // unix_listen: only a bound socket listens
  // A negative backlog reads as a huge unsigned one and is capped too.
  backlog_ = (backlog < 0 || backlog > kSomaxconn) ? kSomaxconn : backlog;
  state_ = State::kListening;
  return 0;
}

Errno Endpoint::Enqueue(const EndpointPtr& server) {
  {
    absl::MutexLock l(&mu_);
    if (state_ != State::kListening) return ECONNREFUSED;
    // unix_recvq_full: more than the backlog already waits.
    if (pending_.size() > static_cast<size_t>(backlog_)) return EAGAIN;
    pending_.push_back(server);
  }
  wq_.Notify(POLLIN | POLLRDNORM);
  return 0;
}

ErrorOr<EndpointPtr> Endpoint::Dequeue() {
  EndpointPtr e;
  {
    absl::MutexLock l(&mu_);
    if (state_ != State::kListening) return Err(EINVAL);
    if (pending_.empty()) return Err(EAGAIN);
    e = std::move(pending_.front());
    pending_.pop_front();
  }
  room_wq_.Notify(POLLOUT | POLLWRNORM);
  return e;
}

void Endpoint::SetDgramPeer(const EndpointPtr& peer) {
  {
    absl::MutexLock l(&mu_);
    peer_ = peer;
    peer_cred_.reset();
    if (peer) peer_cred_ = peer->owner();
  }
  wq_.Notify(POLLOUT | POLLWRNORM);
}

Errno Endpoint::BeginConnect() {
  absl::MutexLock l(&mu_);
  switch (state_) {
    case State::kConnected: return EISCONN;
    case State::kConnecting: return EALREADY;
    case State::kListening: return EINVAL;
    case State::kClosed: return EINVAL;
    case State::kUnconnected: break;
  }
  state_ = State::kConnecting;
  return 0;
}

void Endpoint::AbortConnect() {
  absl::MutexLock l(&mu_);
  if (state_ == State::kConnecting) state_ = State::kUnconnected;
}

EndpointPtr Endpoint::peer() {
  absl::MutexLock l(&mu_);
  return peer_;
}

std::optional<struct ucred> Endpoint::peer_cred() {
  absl::MutexLock l(&mu_);
  return peer_cred_;
}

State Endpoint::state() {
  absl::MutexLock l(&mu_);
  return state_;
}

Errno Endpoint::CheckDeliver(const EndpointPtr& sender, size_t size) {
  absl::MutexLock l(&mu_);
  if (state_ == State::kClosed) return connection_based() ? EPIPE : ECONNREFUSED;
  if (rcv_shut_) return EPIPE;
  // A datagram receiver takes only so many from senders other than its
  // connected peer; they wait for room (unix_dgram_sendmsg).
  if (!connection_based() && peer_ != sender && queue_.size() > kMaxDgramQlen) return EAGAIN;
  (void)size;
  return 0;
}

void Endpoint::Deliver(Message m, const EndpointPtr& sender) {
  const size_t n = m.data.size();
  if (sender) sender->inflight_ += static_cast<int64_t>(n);
  m.sender = sender;
  {
    absl::MutexLock l(&mu_);
    // Consecutive plain stream writes from one sender share a message so
    // a stream of small writes does not become a long queue.
    bool merged = false;
    if (type_ == SOCK_STREAM && !queue_.empty() && m.rights.empty()) {
      Message& last = queue_.back();
      if (last.rights.empty() && SameCreds(last.creds, m.creds) &&
          last.sender.lock() == sender) {
        last.data += m.data;
        merged = true;
      }
    }
    queued_bytes_ += n;
    if (!merged) queue_.push_back(std::move(m));
  }
  wq_.Notify(POLLIN | POLLRDNORM);
}

void Endpoint::Release(const Message& m) {
  if (EndpointPtr s = m.sender.lock()) {
    s->inflight_ -= static_cast<int64_t>(m.data.size());
    s->wq_.Notify(POLLOUT | POLLWRNORM);
  }
}

SysRet Endpoint::Receive(IOSequence& dst, int flags, Message* out, int* msg_flags) {
  const bool peek = flags & MSG_PEEK;
  std::vector<Message> done;  // released after the lock is dropped
  SysRet result = 0;
  {
    absl::MutexLock l(&mu_);
    if (queue_.empty()) {
      if (type_ == SOCK_STREAM && state_ != State::kConnected && !rcv_shut_) {
        return SysRet::Err(EINVAL);  // unix_stream_read_generic
      }
      if (type_ == SOCK_SEQPACKET && state_ != State::kConnected && !rcv_shut_) {
        return SysRet::Err(ENOTCONN);
      }
      if (err_ != 0) {
        int e = err_;
        err_ = 0;
        return SysRet::Err(e);
      }
      if (rcv_shut_) return 0;
      return SysRet::Err(EAGAIN);
    }
    if (type_ != SOCK_STREAM) {
      Message& m = queue_.front();
      size_t len = m.data.size();
      size_t want = std::min(len, dst.remaining());
      size_t copied = 0;
      if (want > 0) {
        auto c = dst.CopyOut(m.data.data(), want);
        if (!c.ok()) return SysRet::Err(c.error());
        copied = *c;
      }
      if (len > copied) *msg_flags |= MSG_TRUNC;
      out->creds = m.creds;
      out->from = m.from;
      if (peek) {
        out->rights = m.rights;
      } else {
        out->rights = std::move(m.rights);
        queued_bytes_ -= len;
        done.push_back(std::move(m));
        queue_.pop_front();
      }
      result = (flags & MSG_TRUNC) ? static_cast<int64_t>(len) : static_cast<int64_t>(copied);
    } else {
      size_t total = 0;
      size_t skip_msgs = 0;  // MSG_PEEK walks without consuming
      bool first = true;
      while (skip_msgs < queue_.size() && dst.remaining() > 0) {
        Message& m = queue_[skip_msgs];
        // With SO_PASSCRED a read never merges bytes of different senders.
        if (!first && passcred_.load() && !SameCreds(m.creds, out->creds)) break;
        size_t avail = m.data.size() - m.off;
        auto c = dst.CopyOut(m.data.data() + m.off, std::min(avail, dst.remaining()));
        if (!c.ok()) {
          if (total == 0) return SysRet::Err(c.error());
          break;
        }
        if (first) {
          out->creds = m.creds;
          out->from = m.from;
          first = false;
        }
        total += *c;
        const bool had_rights = !m.rights.empty();
        if (peek) {
          out->rights = m.rights;
          ++skip_msgs;
        } else {
          // Rights go with the first read that touches their message.
          if (had_rights) out->rights = std::move(m.rights);
          m.off += *c;
          queued_bytes_ -= *c;
          if (m.off == m.data.size()) {
            done.push_back(std::move(m));
            queue_.pop_front();
          }
        }
        if (had_rights || *c < avail) break;
      }
      result = static_cast<int64_t>(total);
    }
  }
  for (const Message& m : done) Release(m);
  if (!done.empty() && type_ == SOCK_DGRAM) room_wq_.Notify(POLLOUT | POLLWRNORM);
  return result;
}

size_t Endpoint::InQueue() {
  absl::MutexLock l(&mu_);
  if (type_ == SOCK_STREAM) return queued_bytes_;
  return queue_.empty() ? 0 : queue_.front().data.size();
}

Errno Endpoint::Shutdown(int how) {
  const bool rd = how == SHUT_RD || how == SHUT_RDWR;
  const bool wr = how == SHUT_WR || how == SHUT_RDWR;
  EndpointPtr peer;
  {
    absl::MutexLock l(&mu_);
    if (rd) rcv_shut_ = true;
    if (wr) snd_shut_ = true;
    if (connection_based()) peer = peer_;
  }
  wq_.Notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
  if (peer) {
    {
      absl::MutexLock l(&peer->mu_);
      if (wr) peer->rcv_shut_ = true;
      if (rd) peer->snd_shut_ = true;
    }
    peer->wq_.Notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
  }
  return 0;
}

bool Endpoint::send_shut() {
  absl::MutexLock l(&mu_);
  return snd_shut_;
}

void Endpoint::PeerClosed(bool reset) {
  {
    absl::MutexLock l(&mu_);
    rcv_shut_ = snd_shut_ = true;
    if (reset) err_ = ECONNRESET;
  }
  wq_.Notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | (reset ? POLLERR : 0));
}

void Endpoint::Close(bool embryo) {
  EndpointPtr peer;
  std::deque<EndpointPtr> pending;
  std::deque<Message> queue;
  {
    absl::MutexLock l(&mu_);
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    peer = std::move(peer_);
    peer_ = nullptr;
    pending.swap(pending_);
    queue.swap(queue_);
    queued_bytes_ = 0;
    wait_target_ = nullptr;
  }
  // unix_release_sock: the peer of a socket closed with unread data, or
  // of a connection nobody accepted, sees ECONNRESET once.
  if (peer && connection_based()) peer->PeerClosed(embryo || !queue.empty());
  for (const EndpointPtr& e : pending) e->Close(/*embryo=*/true);
  for (const Message& m : queue) Release(m);
  queue.clear();  // drops passed files, which may close other sockets
  room_wq_.Notify(POLLOUT | POLLWRNORM | POLLERR | POLLHUP);
  wq_.Notify(POLLIN | POLLOUT | POLLHUP | POLLERR);
}

int Endpoint::TakeError() {
  absl::MutexLock l(&mu_);
  int e = err_;
  err_ = 0;
  return e;
}

bool Endpoint::RoomFor(const EndpointPtr& sender) {
  absl::MutexLock l(&mu_);
  return state_ == State::kClosed || peer_ == sender || queue_.size() <= kMaxDgramQlen;
}

uint32_t Endpoint::Readiness(uint32_t mask) {
  uint32_t r = 0;
  EndpointPtr dgram_peer;
  {
    absl::MutexLock l(&mu_);
    if (err_ != 0) r |= POLLERR;
    if (rcv_shut_ && snd_shut_) r |= POLLHUP;
    if (rcv_shut_) r |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (!queue_.empty() || !pending_.empty()) r |= POLLIN | POLLRDNORM;
    // An unconnected (or closed) connection-based socket polls as hung up.
    if (connection_based() && (state_ == State::kUnconnected || state_ == State::kClosed)) {
      r |= POLLHUP;
    }
    // unix_writable: not listening and at most a quarter of SO_SNDBUF in
    // flight.
    bool writable = state_ != State::kListening && inflight_.load() * 4 <= sndbuf_.load();
    if (writable) r |= POLLOUT | POLLWRNORM | POLLWRBAND;
    if (!connection_based() && writable) dgram_peer = peer_;
  }
  // A connected datagram socket whose peer's queue is full is not
  // writable (unix_dgram_poll).
  if (dgram_peer && (mask & POLLOUT) && !dgram_peer->RoomFor(shared_from_this())) {
    r &= ~(POLLOUT | POLLWRNORM | POLLWRBAND);
  }
  return r & (mask | POLLHUP | POLLERR);
}

void Endpoint::Register(Waiter* w, uint32_t mask) {
  wq_.Register(w, mask);
  if (!(mask & POLLOUT)) return;
  EndpointPtr target;
  {
    absl::MutexLock l(&mu_);
    target = wait_target_;
    if (!target && !connection_based()) target = peer_;
    if (!target) return;
    target_waits_.emplace_back(w, target);
  }
  target->room_wq_.Register(w, mask);
}

void Endpoint::Unregister(Waiter* w) {
  wq_.Unregister(w);
  std::vector<EndpointPtr> targets;
  {
    absl::MutexLock l(&mu_);
    for (auto it = target_waits_.begin(); it != target_waits_.end();) {
      if (it->first == w) {
        targets.push_back(std::move(it->second));
        it = target_waits_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const EndpointPtr& t : targets) t->room_wq_.Unregister(w);
}

void Endpoint::WaitForRoomIn(const EndpointPtr& target) {
  absl::MutexLock l(&mu_);
  wait_target_ = target;
}

}  // namespace sentry::vfs::unixsock
