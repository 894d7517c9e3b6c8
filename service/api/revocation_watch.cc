#include "service/api/revocation_watch.h"

#include <optional>
#include <utility>

#include "service/api/grpc_status.h"
#include "service/api/session_proto.h"

namespace sessiond {

void ToProto(const FeedItem& item, session::v1::WatchRevocationsResponse* out) {
  out->Clear();
  out->set_cursor(item.cursor);
  switch (item.type) {
    case FeedItem::Type::kCaughtUp:
      out->mutable_caught_up();
      return;
    case FeedItem::Type::kHeartbeat:
      out->mutable_heartbeat();
      return;
    case FeedItem::Type::kResync:
      out->mutable_resync_required()->set_reason(item.reason);
      return;
    case FeedItem::Type::kClosed:
      return;
    case FeedItem::Type::kEvent:
      break;
  }
  const RevocationEvent& event = item.event;
  switch (event.kind) {
    case RevocationEvent::Kind::kSessionRevoked: {
      auto* revoked = out->mutable_session_revoked();
      revoked->set_session_id(EncodeSessionId(event.selector));
      switch (event.cause) {
        case RevocationCause::kRevoked:
          revoked->set_cause(session::v1::SessionRevoked::CAUSE_REVOKED);
          break;
        case RevocationCause::kEvicted:
          revoked->set_cause(session::v1::SessionRevoked::CAUSE_EVICTED);
          break;
        case RevocationCause::kReuse:
          revoked->set_cause(session::v1::SessionRevoked::CAUSE_REUSE);
          break;
      }
      return;
    }
    case RevocationEvent::Kind::kSessionRotated:
      out->mutable_session_rotated()->set_session_id(
          EncodeSessionId(event.selector));
      return;
    case RevocationEvent::Kind::kSubjectRevoked: {
      auto* subject = out->mutable_subject_revoked();
      subject->set_subject(event.subject);
      if (event.except.has_value()) {
        subject->set_except_session_id(EncodeSessionId(*event.except));
      }
      return;
    }
    case RevocationEvent::Kind::kIssuedBefore:
      ToProto(event.cutoff,
              out->mutable_issued_before_cut()->mutable_issued_before());
      return;
  }
}

grpc::ServerWriteReactor<session::v1::WatchRevocationsResponse>*
RevocationWatch::Start(RevocationFeed& feed, absl::string_view cursor,
                       absl::string_view caller) {
  auto* watch = new RevocationWatch();
  absl::StatusOr<std::shared_ptr<FeedSubscription>> subscription =
      feed.Subscribe(cursor, caller, [watch] { watch->SendNext(); });
  if (!subscription.ok()) {
    watch->FinishWith(ToGrpcStatus(subscription.status()));
    return watch;
  }
  watch->subscription_ = std::move(*subscription);
  watch->SendNext();
  return watch;
}

void RevocationWatch::SendNext() {
  std::optional<FeedItem> item;
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || finished_) return;
    item = subscription_->Next();
    if (!item.has_value()) return;  // the feed wakes us
    if (item->type == FeedItem::Type::kClosed) {
      finished_ = true;
    } else {
      writing_ = true;
    }
  }
  // gRPC may run OnWriteDone before StartWrite returns: no lock held here.
  if (item->type == FeedItem::Type::kClosed) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the server is shutting down; reconnect with the "
                        "last cursor"));
    return;
  }
  ToProto(*item, &response_);
  StartWrite(&response_);
}

void RevocationWatch::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    ok = ok && !cancelled_;
  }
  if (!ok) {
    FinishWith(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    return;
  }
  SendNext();
}

void RevocationWatch::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (writing_) return;  // OnWriteDone finishes
  }
  FinishWith(grpc::Status::CANCELLED);
}

void RevocationWatch::FinishWith(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
  }
  Finish(status);
}

void RevocationWatch::OnDone() {
  // After Cancel no waker runs, so nothing touches this object any more.
  if (subscription_ != nullptr) subscription_->Cancel();
  delete this;
}

}  // namespace sessiond
