// ArenaMessageAllocator: the request and response of one call on one arena.
//
// A sessiond response is a tree of small messages (Session, its timestamps,
// its client, attribute map entries). Allocated one by one they are a
// visible share of a Validate's cost; on a protobuf arena whose first block
// lives inside the holder, the whole call costs one allocation, freed at
// once when gRPC releases the holder after the call finished.
//
// Example:
//   ArenaMessageAllocator<CreateSessionRequest, CreateSessionResponse> a;
//   service.SetMessageAllocatorFor_CreateSession(&a);  // outlives the server

#ifndef SESSIOND_SERVICE_API_ARENA_MESSAGE_ALLOCATOR_H_
#define SESSIOND_SERVICE_API_ARENA_MESSAGE_ALLOCATOR_H_

#include <grpcpp/support/message_allocator.h>

#include "service/api/stack_arena.h"

namespace sessiond {

// Thread-safe (stateless).
template <typename Request, typename Response>
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() {
      this->set_request(arena_.template Create<Request>());
      this->set_response(arena_.template Create<Response>());
    }

    void Release() override { delete this; }

   private:
    // Big enough for a typical request and response; larger ones spill over
    // into blocks the arena allocates itself.
    StackArena<2048> arena_;
  };
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_ARENA_MESSAGE_ALLOCATOR_H_
