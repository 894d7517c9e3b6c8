#include "service/session/revocation_feed.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/common/log.h"
#include "service/common/option_checks.h"

namespace sessiond {
namespace {

// A cursor is "<epoch as 16 hex digits>-<event number>": opaque to clients,
// readable in a `sessionctl watch` transcript.
struct Cursor {
  uint64_t epoch = 0;
  uint64_t seq = 0;
};

std::optional<Cursor> ParseCursor(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  Cursor cursor;
  if (parts.size() != 2 || parts[0].size() != 16 ||
      !absl::SimpleHexAtoi(parts[0], &cursor.epoch) ||
      !absl::SimpleAtoi(parts[1], &cursor.seq)) {
    return std::nullopt;
  }
  return cursor;
}

}  // namespace

absl::Status ValidateRevocationFeedOptions(
    const RevocationFeedOptions& options) {
  for (const absl::Status& s : {
           CheckSize("max_watchers", options.max_watchers, 0, kMaxIntOption),
           CheckSize("max_watchers_per_caller", options.max_watchers_per_caller,
                     0, kMaxIntOption),
           CheckSize("watch_history", options.history, 1, kMaxIntOption),
           CheckPositive("watch_heartbeat", options.heartbeat),
       }) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::optional<FeedItem> FeedSubscription::Next() { return feed_.NextFor(this); }

void FeedSubscription::Cancel() {
  feed_.Remove(this);
  absl::MutexLock lock(&wake_mu_);
  waker_ = nullptr;
}

void FeedSubscription::Wake() {
  absl::MutexLock lock(&wake_mu_);
  if (waker_) waker_();
}

namespace {
// A refused client may ask again at once, and may never get a stream: its
// cache stays off. Who it is matters to an operator; a line per attempt
// does not.
constexpr int64_t kRefusalLinesPerCaller = 5;
}  // namespace

RevocationFeed::RevocationFeed(RevocationFeedOptions options, uint64_t epoch)
    : options_(options),
      epoch_(epoch),
      refusals_log_(log_clock_, LogLevel::kWarning,
                    "refused revocation streams") {}

absl::Status RevocationFeed::Refuse(absl::string_view caller,
                                    absl::string_view limit, absl::Status why) {
  if (refusals_log_.Admit(
          {{absl::StrCat("caller ", caller), kRefusalLinesPerCaller}})) {
    LogEvent(LogLevel::kWarning, "watch.refused",
             {{"caller", caller}, {"limit", limit}});
  }
  return why;
}

std::string RevocationFeed::CursorAt(uint64_t seq) const {
  return absl::StrCat(absl::Hex(epoch_, absl::kZeroPad16), "-", seq);
}

void RevocationFeed::Publish(RevocationEvent event) {
  std::vector<std::shared_ptr<FeedSubscription>> armed;
  {
    absl::MutexLock lock(&mu_);
    history_.push_back(std::move(event));
    ++last_seq_;
    if (history_.size() > options_.history) history_.pop_front();
    armed = TakeArmed();
  }
  WakeAll(armed);
}

void RevocationFeed::SetCurrent(bool current) {
  std::vector<std::shared_ptr<FeedSubscription>> armed;
  {
    absl::MutexLock lock(&mu_);
    if (current_ == current) return;
    current_ = current;
    // Watchers waiting for a caught-up or a heartbeat may have one now.
    if (current) armed = TakeArmed();
  }
  WakeAll(armed);
}

void RevocationFeed::Tick() {
  std::vector<std::shared_ptr<FeedSubscription>> armed;
  {
    absl::MutexLock lock(&mu_);
    ++ticks_;
    armed = TakeArmed();
  }
  WakeAll(armed);
}

std::vector<std::shared_ptr<FeedSubscription>> RevocationFeed::TakeArmed() {
  std::vector<std::shared_ptr<FeedSubscription>> armed;
  for (auto& [key, watcher] : watchers_) {
    if (!watcher.position.armed) continue;
    watcher.position.armed = false;
    armed.push_back(watcher.subscription);
  }
  return armed;
}

absl::StatusOr<std::shared_ptr<FeedSubscription>> RevocationFeed::Subscribe(
    absl::string_view cursor_text, absl::string_view caller,
    absl::AnyInvocable<void()> waker) {
  std::optional<Cursor> cursor;
  if (!cursor_text.empty()) {
    cursor = ParseCursor(cursor_text);
    if (!cursor.has_value()) {
      return absl::InvalidArgumentError(
          "cursor is not one this server gave out; omit it to start from now");
    }
  }
  std::shared_ptr<FeedSubscription> subscription(
      new FeedSubscription(*this, std::move(waker)));
  absl::ReleasableMutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("the server is shutting down");
  if (watchers_.size() >= options_.max_watchers) {
    ++refusals_.server_full;
    lock.Release();
    return Refuse(caller, "max_watchers",
                  absl::ResourceExhaustedError(absl::StrCat(
                      "the server already streams revocations to ",
                      options_.max_watchers, " watchers (--max_watchers)")));
  }
  size_t& held = watchers_by_caller_[caller];
  if (options_.max_watchers_per_caller > 0 &&
      held >= options_.max_watchers_per_caller) {
    ++refusals_.caller_full;
    const size_t holds = held;
    lock.Release();
    return Refuse(caller, "max_watchers_per_caller",
                  absl::ResourceExhaustedError(absl::StrCat(
                      "this caller already holds ", holds,
                      " revocation streams (--max_watchers_per_caller)")));
  }
  ++held;
  Position position;
  position.seq = last_seq_;
  if (cursor.has_value()) {
    const uint64_t first_kept = last_seq_ - history_.size();  // delivered
    if (cursor->epoch != epoch_) {
      position.resync = "the cursor is from before the server restarted";
    } else if (cursor->seq > last_seq_) {
      position.resync = "the cursor is ahead of this server";
    } else if (cursor->seq < first_kept) {
      position.resync =
          absl::StrCat("the cursor is older than the last ", options_.history,
                       " revocations the server keeps (--watch_history)");
    } else {
      position.seq = cursor->seq;
    }
  }
  watchers_[subscription.get()] =
      Watcher{subscription, std::move(position), std::string(caller)};
  return subscription;
}

std::optional<FeedItem> RevocationFeed::NextFor(
    const FeedSubscription* subscription) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(subscription);
  FeedItem item;
  if (closed_ || it == watchers_.end()) {
    item.type = FeedItem::Type::kClosed;
    return item;
  }
  Position& position = it->second.position;
  const uint64_t first_kept = last_seq_ - history_.size();
  if (!position.resync.has_value() && position.seq < first_kept) {
    // The watcher read too slowly: what it missed is gone.
    position.resync =
        absl::StrCat("the watcher fell more than ", options_.history,
                     " revocations behind (--watch_history); read faster");
    position.seq = last_seq_;
  }
  if (position.resync.has_value()) {
    item.type = FeedItem::Type::kResync;
    item.reason = std::move(*position.resync);
    position.resync.reset();
  } else if (position.seq < last_seq_) {
    item.type = FeedItem::Type::kEvent;
    item.event = history_[position.seq - first_kept];
    ++position.seq;
  } else if (!current_) {
    // Neither caught up nor a heartbeat: this server may be missing
    // revocations (SetCurrent).
    position.armed = true;
    return std::nullopt;
  } else if (!position.caught_up_sent) {
    item.type = FeedItem::Type::kCaughtUp;
    position.caught_up_sent = true;
    position.ticks_seen = ticks_;
  } else if (position.ticks_seen < ticks_) {
    // Only when nothing is pending, so a heartbeat always means caught up.
    item.type = FeedItem::Type::kHeartbeat;
    position.ticks_seen = ticks_;
  } else {
    position.armed = true;
    return std::nullopt;
  }
  item.cursor = CursorAt(position.seq);
  return item;
}

void RevocationFeed::Remove(const FeedSubscription* subscription) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(subscription);
  if (it == watchers_.end()) return;
  auto held = watchers_by_caller_.find(it->second.caller);
  if (held != watchers_by_caller_.end() && --held->second == 0) {
    watchers_by_caller_.erase(held);
  }
  watchers_.erase(it);
}

void RevocationFeed::Close() {
  std::vector<std::shared_ptr<FeedSubscription>> armed;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    armed = TakeArmed();
  }
  WakeAll(armed);
}

size_t RevocationFeed::watchers() const {
  absl::MutexLock lock(&mu_);
  return watchers_.size();
}

RevocationFeed::Refusals RevocationFeed::refusals() const {
  absl::MutexLock lock(&mu_);
  return refusals_;
}

void RevocationFeed::WakeAll(
    const std::vector<std::shared_ptr<FeedSubscription>>& armed) {
  for (const std::shared_ptr<FeedSubscription>& subscription : armed) {
    subscription->Wake();
  }
}

}  // namespace sessiond
