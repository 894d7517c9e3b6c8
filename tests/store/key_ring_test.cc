#include "service/store/key_ring.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Base64 of 32 bytes of `fill`.
std::string Key(char fill) { return absl::Base64Escape(std::string(32, fill)); }

TEST(KeyRingTest, FirstKeySealsEveryKeyOpens) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(
      "# rotated in March\n"
      "k2:" +
      Key('b') +
      "\n"
      "\n"
      "  k1 : " +
      Key('a') + "  \r\n");
  ASSERT_THAT(ring, IsOk());
  EXPECT_EQ(ring->primary().id, "k2");
  ASSERT_EQ(ring->keys().size(), 2u);
  ASSERT_NE(ring->Find("k1"), nullptr);
  EXPECT_EQ(ring->Find("k1")->bytes[0], 'a');
  EXPECT_EQ(ring->primary().bytes[31], 'b');
  EXPECT_EQ(ring->Find("k3"), nullptr);
}

struct BadFile {
  const char* name;
  std::string text;
  const char* message;  // the error must contain this
};

TEST(KeyRingTest, BadFilesAreRefusedNamingTheLine) {
  const BadFile cases[] = {
      {"empty", "", "lists no key"},
      {"only comments", "# nothing\n\n", "lists no key"},
      {"no colon", "k1:" + Key('a') + "\n" + Key('b'), "line 2: expected"},
      {"empty id", ":" + Key('a'), "line 1: key id"},
      {"id with space", "my key:" + Key('a'), "line 1: key id"},
      {"id too long", std::string(33, 'k') + ":" + Key('a'), "line 1: key id"},
      {"not base64", "k1:not*base64!", "line 1: key \"k1\" is not valid"},
      {"no key", "k1:", "line 1: key \"k1\" is not valid"},
      {"16 bytes", "k1:" + absl::Base64Escape(std::string(16, 'x')),
       "line 1: key \"k1\" is 16 bytes, not 32"},
      {"33 bytes", "k1:" + absl::Base64Escape(std::string(33, 'x')),
       "is 33 bytes"},
      {"duplicate id", "k1:" + Key('a') + "\n#\nk1:" + Key('b'),
       "line 3: key id \"k1\" is listed twice"},
  };
  for (const BadFile& c : cases) {
    absl::StatusOr<KeyRing> ring = KeyRing::Parse(c.text, "/etc/keys");
    EXPECT_THAT(ring, StatusIs(absl::StatusCode::kInvalidArgument)) << c.name;
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr(c.message))
        << c.name;
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr("/etc/keys"))
        << c.name;
  }
}

TEST(KeyRingTest, ErrorsNeverShowKeyMaterial) {
  const std::string wrong_size = absl::Base64Escape("sixteen byte key");
  absl::StatusOr<KeyRing> ring =
      KeyRing::Parse("k1:" + Key('a') + "\nk2:" + wrong_size);
  ASSERT_FALSE(ring.ok());
  EXPECT_THAT(std::string(ring.status().message()), Not(HasSubstr(Key('a'))));
  EXPECT_THAT(std::string(ring.status().message()), Not(HasSubstr(wrong_size)));
}

class KeyFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode) {
    const std::string path = dir_.File("keys");
    std::ofstream(path, std::ios::trunc) << text;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  TempDir dir_;
};

TEST_F(KeyFileTest, OwnerOnlyFileLoads) {
  for (mode_t mode : {0600, 0400}) {
    absl::StatusOr<KeyRing> ring = KeyRing::Load(Write("k1:" + Key('a'), mode));
    ASSERT_THAT(ring, IsOk()) << std::oct << mode;
    EXPECT_EQ(ring->primary().id, "k1");
    EXPECT_EQ(ring->source(), dir_.File("keys"));
  }
}

TEST_F(KeyFileTest, FileOthersMayAccessIsRefused) {
  for (mode_t mode : {0640, 0604, 0620, 0602, 0644}) {
    absl::StatusOr<KeyRing> ring = KeyRing::Load(Write("k1:" + Key('a'), mode));
    EXPECT_THAT(ring, StatusIs(absl::StatusCode::kFailedPrecondition))
        << std::oct << mode;
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr("chmod 600"));
  }
}

TEST_F(KeyFileTest, MissingFileAndDirectoryAreRefused) {
  EXPECT_THAT(KeyRing::Load(dir_.File("absent")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(chmod(dir_.path().c_str(), 0700), 0);
  EXPECT_THAT(KeyRing::Load(dir_.path()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Audit finding 8 (issue 13): the key file was opened before its type was
// checked, so a FIFO there hung startup, beyond the reach of SIGTERM.
TEST_F(KeyFileTest, FifoSymlinkAndForeignOwnerAreRefused) {
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<KeyRing> ring = KeyRing::Load(fifo);  // must not block
  EXPECT_THAT(ring, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(ring.status().message()),
              HasSubstr("not a regular file"));

  const std::string target = Write("k1:" + Key('a'), 0600);
  const std::string link = dir_.File("link");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  ring = KeyRing::Load(link);
  EXPECT_THAT(ring, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(ring.status().message()), HasSubstr("symbolic link"));

  // Only root can give a file away, and not root in Bazel's sandbox (a
  // user namespace maps no other user: chown fails there); the CTest run
  // as root covers it.
  if (geteuid() == 0 && chown(target.c_str(), 65534, 65534) == 0) {
    ring = KeyRing::Load(target);
    EXPECT_THAT(ring, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(ring.status().message()),
                HasSubstr("belongs to user 65534"));
  }
}

TEST_F(KeyFileTest, ParseErrorsNameTheFile) {
  absl::StatusOr<KeyRing> ring = KeyRing::Load(Write("k1 " + Key('a'), 0600));
  EXPECT_THAT(ring, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(ring.status().message()),
              HasSubstr(dir_.File("keys") + " line 1"));
}

TEST_F(KeyFileTest, HugeFileIsRefused) {
  std::string text = "k1:" + Key('a') + "\n";
  text += std::string(70 * 1024, '#');
  EXPECT_THAT(KeyRing::Load(Write(text, 0600)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace sessiond
