#include "client/validation_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "google/protobuf/util/time_util.h"

namespace sessiond {

using google::protobuf::util::TimeUtil;

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
  const session::v1::Session& session = answer->session();
  lru_.push_front(Entry{digest, std::move(answer), deadline});
  const Lru::iterator entry = lru_.begin();
  by_digest_.emplace(digest, entry);
  by_session_[session.id()].push_back(entry);
  by_subject_[session.subject()].emplace(&*entry, entry);
  by_created_.emplace(CreatedKeyOf(*entry), entry);
}

ValidationCache::CreatedKey ValidationCache::CreatedKeyOf(const Entry& entry) {
  return {
      TimeUtil::TimestampToMicroseconds(entry.answer->session().create_time()),
      &entry};
}

void ValidationCache::Erase(Lru::iterator entry) {
  const session::v1::Session& answered = entry->answer->session();
  auto session = by_session_.find(answered.id());
  if (session != by_session_.end()) {
    auto& entries = session->second;
    entries.erase(std::remove(entries.begin(), entries.end(), entry),
                  entries.end());
    if (entries.empty()) by_session_.erase(session);
  }
  auto subject = by_subject_.find(answered.subject());
  if (subject != by_subject_.end()) {
    subject->second.erase(&*entry);
    if (subject->second.empty()) by_subject_.erase(subject);
  }
  by_created_.erase(CreatedKeyOf(*entry));
  by_digest_.erase(entry->digest);
  lru_.erase(entry);
}

size_t ValidationCache::EraseAll(std::vector<Lru::iterator> entries) {
  for (Lru::iterator entry : entries) Erase(entry);
  return entries.size();
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
  return EraseAll({session->second.begin(), session->second.end()});
}

size_t ValidationCache::RemoveSubject(absl::string_view subject,
                                      absl::string_view except_session_id) {
  auto found = by_subject_.find(subject);
  if (found == by_subject_.end()) return 0;
  std::vector<Lru::iterator> doomed;
  for (const auto& [unused, entry] : found->second) {
    if (except_session_id.empty() ||
        entry->answer->session().id() != except_session_id) {
      doomed.push_back(entry);
    }
  }
  return EraseAll(std::move(doomed));
}

size_t ValidationCache::RemoveIssuedBefore(absl::Time cutoff) {
  const int64_t cutoff_micros = absl::ToUnixMicros(cutoff);
  std::vector<Lru::iterator> doomed;
  for (auto it = by_created_.begin();
       it != by_created_.end() && it->first.first < cutoff_micros; ++it) {
    doomed.push_back(it->second);
  }
  return EraseAll(std::move(doomed));
}

void ValidationCache::Clear() {
  by_created_.clear();
  by_subject_.clear();
  by_session_.clear();
  by_digest_.clear();
  lru_.clear();
}

}  // namespace sessiond
