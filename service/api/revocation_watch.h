// RevocationWatch: the server side of one WatchRevocations stream.
//
// A write reactor that sends what its feed subscription has next, one
// message at a time: the next is asked for only once gRPC is done with the
// last, so a watcher that reads slowly holds one message here and its
// position in the feed, never a queue (the feed tells it to resync if it
// falls out of the history). When the subscription has nothing, the feed's
// next Publish wakes the reactor.
//
// Example (in the service's handler):
//   return RevocationWatch::Start(feed, request->cursor(), CallerOf(context));

#ifndef SESSIOND_SERVICE_API_REVOCATION_WATCH_H_
#define SESSIOND_SERVICE_API_REVOCATION_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/session/revocation_feed.h"
#include "session/v1/session.pb.h"

namespace sessiond {

// Translates what a subscription yields into a stream message.
void ToProto(const FeedItem& item, session::v1::WatchRevocationsResponse* out);

class RevocationWatch final
    : public grpc::ServerWriteReactor<session::v1::WatchRevocationsResponse> {
 public:
  // Starts a stream for `caller` after `cursor` (a reactor that finishes at
  // once with the error when the feed refuses it). gRPC owns the reactor;
  // it deletes itself when done.
  static grpc::ServerWriteReactor<session::v1::WatchRevocationsResponse>* Start(
      RevocationFeed& feed, absl::string_view cursor, absl::string_view caller);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  RevocationWatch() = default;
  // Writes the subscription's next item unless a write is in flight.
  void SendNext();
  void FinishWith(const grpc::Status& status);

  std::shared_ptr<FeedSubscription> subscription_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The message in flight; touched only by whoever set writing_.
  session::v1::WatchRevocationsResponse response_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_REVOCATION_WATCH_H_
