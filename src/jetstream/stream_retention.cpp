// Work-queue and interest retention on a replica of a replicated stream, where the consumer's
// Raft group and the stream's are applied independently. The usual path is
// ConsumerGroup::apply -> ack_for_retention: the committed ack removes the stored message.
// Two ways it can miss on one replica, after which that replica would keep acknowledged
// messages that its peers dropped (and hand them out again once it leads):
//  - the consumer's group applied the ack before this replica's stream group had stored the
//    message (the stream lags, or is catching up): the removal found nothing. The message,
//    when it arrives, is dropped here instead (drop_if_acked). Either the ack's removal sees
//    the stored message, or the message's store sees the committed ack: each side writes
//    first and reads the other's state after, under that state's lock. (2.9.10 proposes a
//    delete to the stream's log instead; this needs no entry and no leader.)
//  - the consumer's group took over a snapshot (it fell behind its leader's compaction, or
//    restarts from one): the acks it covers were never applied here one by one
//    (release_acked). As 2.10's checkStateForInterestStream; 2.9.10 leaves the
//    messages.
#include "jetstream/stream.h"

namespace nats::jetstream {

void Stream::drop_if_acked(uint64_t seq, std::string_view subject, RetentionPolicy retention,
                           const std::vector<StreamConsumerPtr>& consumers) {
  bool acked = false, needed = false;
  for (const auto& c : consumers) {
    if (!store_filter_matches(c->filter_subject(), subject)) continue;
    if (c->needs_ack(seq, subject)) needed = true;
    else acked = true;
  }
  // A work queue's message goes with its (one) consumer's ack; an interest stream's once
  // one consumer acknowledged it and no other still needs it (none matching: after_store).
  if (retention == RetentionPolicy::workqueue ? acked : acked && !needed) store_->remove_msg(seq);
}

void Stream::release_acked(const StreamConsumer& by, uint64_t upto) {
  if (retention() == RetentionPolicy::limits) return;
  const std::string filter = by.filter_subject();
  StoredMsg m;
  // From the store's first message: below the ack floor a work queue keeps (next to) nothing.
  for (uint64_t seq = 1; seq <= upto && store_->load_next_msg({}, seq, m) == StoreErr::ok && m.seq <= upto;
       seq = m.seq + 1)
    if (store_filter_matches(filter, m.subject) && !by.needs_ack(m.seq, m.subject)) ack_for_retention(m.seq, by);
}

}  // namespace nats::jetstream
