// StackArena: a protobuf arena whose first block lives inside the object.
//
// A call's request and response are a tree of small messages; on an arena
// whose first block is part of its holder (a raw handler's stack frame, a
// message holder) the whole call allocates nothing unless the messages
// outgrow the block, and everything is freed at once.
//
// Example:
//   StackArena<2048> arena;
//   auto* request = arena.Create<ValidateSessionWireRequest>();

#ifndef SESSIOND_SERVICE_API_STACK_ARENA_H_
#define SESSIOND_SERVICE_API_STACK_ARENA_H_

#include <cstddef>

#include "google/protobuf/arena.h"

namespace sessiond {

// Not thread-safe: one call's messages.
template <size_t kBlockBytes>
class StackArena {
 public:
  StackArena() : arena_(Options(block_)) {}
  StackArena(const StackArena&) = delete;
  StackArena& operator=(const StackArena&) = delete;

  // A new message owned by the arena, freed with it.
  template <typename Message>
  Message* Create() {
    return google::protobuf::Arena::CreateMessage<Message>(&arena_);
  }

 private:
  static google::protobuf::ArenaOptions Options(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kBlockBytes;
    return options;
  }

  alignas(16) char block_[kBlockBytes];
  google::protobuf::Arena arena_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_STACK_ARENA_H_
