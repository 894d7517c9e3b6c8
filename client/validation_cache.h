// ValidationCache: the bounded store behind sessiond::CachingValidator.
//
// Valid ValidateSession answers keyed by a SHA-256 digest of the token (the
// token itself is never kept), least recently used first out once
// `max_entries` are held, each with a deadline after which it is not served.
// Removal by session id, by subject and by creation time applies the
// WatchRevocations events.
//
// Not thread-safe: CachingValidator locks around it.
//
// Example:
//   ValidationCache cache(10000);
//   cache.Insert(DigestToken(token), answer, now + absl::Seconds(30));
//   cache.RemoveSession(answer->session().id());

#ifndef SESSIOND_CLIENT_VALIDATION_CACHE_H_
#define SESSIOND_CLIENT_VALIDATION_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "session/v1/session.pb.h"

namespace sessiond {

using TokenDigest = std::array<uint8_t, 32>;

// SHA-256 of `token`.
TokenDigest DigestToken(absl::string_view token);

using CachedAnswer =
    std::shared_ptr<const session::v1::ValidateSessionResponse>;

class ValidationCache {
 public:
  explicit ValidationCache(size_t max_entries);

  // The answer cached for `digest`, if any and still before its deadline at
  // `now` (an entry past it is dropped); marks it recently used.
  CachedAnswer Find(const TokenDigest& digest, absl::Time now);

  // Caches a valid answer until `deadline`, evicting the least recently used
  // entry when full.
  void Insert(const TokenDigest& digest, CachedAnswer answer,
              absl::Time deadline);

  // Each removes the matching entries and returns how many.
  size_t Remove(const TokenDigest& digest);
  size_t RemoveSession(absl::string_view session_id);
  size_t RemoveSubject(absl::string_view subject,
                       absl::string_view except_session_id);
  size_t RemoveIssuedBefore(absl::Time cutoff);
  void Clear();

  size_t size() const { return by_digest_.size(); }

 private:
  struct Entry {
    TokenDigest digest;
    CachedAnswer answer;
    absl::Time deadline;
  };
  using Lru = std::list<Entry>;  // most recently used first
  struct DigestHash {
    size_t operator()(const TokenDigest& digest) const;
  };

  // An entry's place in by_created_: its session's creation time, then the
  // entry itself to tell apart sessions created the same microsecond.
  using CreatedKey = std::pair<int64_t, const Entry*>;
  static CreatedKey CreatedKeyOf(const Entry& entry);

  void Erase(Lru::iterator entry);
  // Erases `entries` (copied first: Erase edits the index they come from).
  size_t EraseAll(std::vector<Lru::iterator> entries);

  const size_t max_entries_;
  Lru lru_;
  absl::flat_hash_map<TokenDigest, Lru::iterator, DigestHash> by_digest_;
  // Session id -> its cached tokens (usually one; two around a rotation).
  absl::flat_hash_map<std::string, absl::InlinedVector<Lru::iterator, 1>>
      by_session_;
  // Subject -> its cached tokens, and every token by its session's creation
  // time, so a subject's revocation or an administrator's cut costs what it
  // removes, not a scan of the whole cache under the validator's lock.
  absl::flat_hash_map<std::string,
                      absl::flat_hash_map<const Entry*, Lru::iterator>>
      by_subject_;
  absl::btree_map<CreatedKey, Lru::iterator> by_created_;
};

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_VALIDATION_CACHE_H_
