#include "netstack/link.h"

namespace netstack {

void TestLink::WritePacket(View pkt) {
  if (capture_) captured_.push_back(pkt);
  if (q_ == nullptr) return;
  if (Roll(faults_.drop)) {
    dropped_++;
  } else if (Roll(faults_.reorder)) {
    // Held until the next packet has gone; a retransmission always comes
    // along, so nothing stays held for good.
    reordered_++;
    held_.push_back(pkt);
    return;
  } else {
    q_->QueueInboundLocked(pkt);
    if (Roll(faults_.duplicate)) {
      duplicated_++;
      q_->QueueInboundLocked(pkt);
    }
  }
  while (!held_.empty()) {
    q_->QueueInboundLocked(std::move(held_.front()));
    held_.pop_front();
  }
}

}  // namespace netstack
