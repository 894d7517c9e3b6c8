#include "client/token_input.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// A token is about 75 characters; anything much longer is the wrong input
// (a binary, a log file) and is not worth reading in full.
constexpr size_t kMaxTokenInput = 4096;

std::string ReadBounded(std::istream& in) {
  std::string text;
  std::istreambuf_iterator<char> it(in), end;
  while (it != end && text.size() <= kMaxTokenInput) text.push_back(*it++);
  return text;
}

}  // namespace

absl::StatusOr<std::string> ReadToken(const std::string& path,
                                      std::istream& stdin_stream) {
  std::string text;
  if (path.empty() || path == "-") {
    text = ReadBounded(stdin_stream);
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return absl::NotFoundError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    text = ReadBounded(file);
  }
  if (text.size() > kMaxTokenInput) {
    return absl::InvalidArgumentError("the token input is far too long");
  }
  std::string token(absl::StripAsciiWhitespace(text));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        "no token: pipe it on standard input or give --token_file");
  }
  return token;
}

}  // namespace sessiond
