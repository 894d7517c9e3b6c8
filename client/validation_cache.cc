#include "client/validation_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "google/protobuf/util/time_util.h"

namespace sessiond {

TokenDigest DigestToken(absl::string_view token) {
  TokenDigest digest{};
  unsigned int size = 0;
  // EVP_Digest with SHA-256 cannot fail on a valid buffer; a zero digest
  // would only make every token miss together, never match another's.
  EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(),
             nullptr);
  return digest;
}

size_t ValidationCache::DigestHash::operator()(
    const TokenDigest& digest) const {
  size_t hash;  // a SHA-256 digest is a hash already
  std::memcpy(&hash, digest.data(), sizeof(hash));
  return hash;
}

ValidationCache::ValidationCache(size_t max_entries)
    : max_entries_(std::max<size_t>(max_entries, 1)) {}

CachedAnswer ValidationCache::Find(const TokenDigest& digest, absl::Time now) {
  auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return nullptr;
  Lru::iterator entry = it->second;
  if (now >= entry->deadline) {
    Erase(entry);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return entry->answer;
}

void ValidationCache::Insert(const TokenDigest& digest, CachedAnswer answer,
                             absl::Time deadline) {
  if (auto it = by_digest_.find(digest); it != by_digest_.end()) {
    Erase(it->second);
  }
  while (by_digest_.size() >= max_entries_) Erase(std::prev(lru_.end()));
  const std::string& session_id = answer->session().id();
  lru_.push_front(Entry{digest, std::move(answer), deadline});
  by_digest_.emplace(digest, lru_.begin());
  by_session_[session_id].push_back(lru_.begin());
}

void ValidationCache::Erase(Lru::iterator entry) {
  auto session = by_session_.find(entry->answer->session().id());
  if (session != by_session_.end()) {
    auto& entries = session->second;
    entries.erase(std::remove(entries.begin(), entries.end(), entry),
                  entries.end());
    if (entries.empty()) by_session_.erase(session);
  }
  by_digest_.erase(entry->digest);
  lru_.erase(entry);
}

template <typename Predicate>
size_t ValidationCache::EraseIf(Predicate matches) {
  size_t removed = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (matches(it->answer->session())) {
      Erase(it);
      ++removed;
    }
    it = next;
  }
  return removed;
}

size_t ValidationCache::Remove(const TokenDigest& digest) {
  auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return 0;
  Erase(it->second);
  return 1;
}

size_t ValidationCache::RemoveSession(absl::string_view session_id) {
  auto session = by_session_.find(session_id);
  if (session == by_session_.end()) return 0;
  const absl::InlinedVector<Lru::iterator, 1> entries = session->second;
  for (Lru::iterator entry : entries) Erase(entry);
  return entries.size();
}

size_t ValidationCache::RemoveSubject(absl::string_view subject,
                                      absl::string_view except_session_id) {
  return EraseIf([&](const session::v1::Session& session) {
    return session.subject() == subject &&
           (except_session_id.empty() || session.id() != except_session_id);
  });
}

size_t ValidationCache::RemoveIssuedBefore(absl::Time cutoff) {
  const int64_t cutoff_micros = absl::ToUnixMicros(cutoff);
  return EraseIf([&](const session::v1::Session& session) {
    return google::protobuf::util::TimeUtil::TimestampToMicroseconds(
               session.create_time()) < cutoff_micros;
  });
}

void ValidationCache::Clear() {
  by_session_.clear();
  by_digest_.clear();
  lru_.clear();
}

}  // namespace sessiond
