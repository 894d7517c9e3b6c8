// sessiond::CachingValidator against the real sessiond: revoke, rotate,
// revoke-subject and an administrator's cut each evict a cached answer;
// sessiond killed and restarted turns the cache off and on again without a
// stale answer; the bound holds; half the idle timeout caps an entry's
// life; a half-open connection is dropped by the pings at both ends.

#include "client/caching_validator.h"

#include <signal.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "service/server/server_options.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/tcp_relay.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

// A bound on waiting for the stream, so a bug fails instead of hanging;
// never a measure of speed.
constexpr absl::Duration kPatience = absl::Seconds(30);

class CachingValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(sessiond_.Start(Flags()), IsOk());
    ClientOptions options;
    options.target = sessiond_.address();
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }

  std::vector<std::string> Flags(int port = 0) {
    std::vector<std::string> flags = {"--store=sqlite:" + dir_.File("s.db"),
                                      "--watch_heartbeat=50ms"};
    if (port != 0)
      flags.push_back("--listen=127.0.0.1:" + std::to_string(port));
    return flags;
  }

  void StartValidator(CachingValidatorOptions options = {}) {
    options.on_event =
        [this](const session::v1::WatchRevocationsResponse& message) {
          absl::MutexLock lock(&mu_);
          if (!message.has_heartbeat() && !message.has_caught_up()) ++events_;
        };
    absl::StatusOr<std::unique_ptr<CachingValidator>> validator =
        CachingValidator::Create(*client_, std::move(options));
    ASSERT_THAT(validator, IsOk());
    validator_ = *std::move(validator);
    WaitUntilCacheIs(true);
  }

  void WaitUntilCacheIs(bool on) {
    const absl::Time give_up = absl::Now() + kPatience;
    while (validator_->cache_on() != on) {
      ASSERT_LT(absl::Now(), give_up) << "the cache never turned " << on;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  int64_t events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

  // Waits for `n` revocation events in all.
  void WaitForEvents(int64_t n) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, n]()
                    ABSL_SHARED_LOCKS_REQUIRED(mu_) { return events_ >= n; };
    ASSERT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&seen), kPatience))
        << "the event never arrived";
  }

  session::v1::CreateSessionResponse Create(const std::string& subject,
                                            absl::Duration idle = {}) {
    session::v1::CreateSessionRequest request;
    request.set_subject(subject);
    if (idle > absl::ZeroDuration()) {
      request.mutable_idle_timeout()->set_seconds(absl::ToInt64Seconds(idle));
    }
    absl::StatusOr<session::v1::CreateSessionResponse> response =
        client_->CreateSession(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : session::v1::CreateSessionResponse();
  }

  // Validates twice, so the answer is cached, and checks the second was a
  // hit.
  void Cache(const std::string& token) {
    const int64_t hits = validator_->stats().hits;
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<CachedAnswer> answer = validator_->Validate(token);
      ASSERT_THAT(answer, IsOk());
      ASSERT_TRUE((*answer)->valid());
    }
    EXPECT_EQ(validator_->stats().hits, hits + 1);
  }

  // Points client_ at sessiond through a relay a test can freeze, pinging
  // every 500 ms and dropping the connection 500 ms after a ping goes
  // unanswered. Null (and a failure) if the relay or client cannot start.
  std::unique_ptr<TcpRelay> ConnectThroughRelay() {
    absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
        TcpRelay::Start(sessiond_.port());
    EXPECT_THAT(relay, IsOk());
    if (!relay.ok()) return nullptr;
    ClientOptions options;
    options.target = "127.0.0.1:" + std::to_string((*relay)->port());
    options.keepalive_time = absl::Milliseconds(500);
    options.keepalive_timeout = absl::Milliseconds(500);
    absl::StatusOr<std::unique_ptr<Client>> relayed = Client::Create(options);
    EXPECT_THAT(relayed, IsOk());
    if (!relayed.ok()) return nullptr;
    client_ = *std::move(relayed);
    return *std::move(relay);
  }

  bool Valid(const std::string& token) {
    absl::StatusOr<CachedAnswer> answer = validator_->Validate(token);
    EXPECT_THAT(answer, IsOk());
    return answer.ok() && (*answer)->valid();
  }

  TempDir dir_;
  SessiondProcess sessiond_{SessiondBinary(), dir_.File("sessiond.log")};
  std::unique_ptr<Client> client_;
  std::unique_ptr<CachingValidator> validator_;
  absl::Mutex mu_;
  int64_t events_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(CachingValidatorTest, RevokeEvicts) {
  StartValidator();
  const std::string token = Create("alice").token();
  Cache(token);
  session::v1::RevokeSessionRequest revoke;
  revoke.set_token(token);
  ASSERT_THAT(client_->RevokeSession(revoke), IsOk());
  WaitForEvents(1);
  EXPECT_FALSE(Valid(token));
  EXPECT_EQ(validator_->stats().evicted, 1);
}

TEST_F(CachingValidatorTest, RotateEvictsTheOldToken) {
  StartValidator();
  const std::string token = Create("alice").token();
  Cache(token);
  session::v1::RotateSessionRequest rotate;
  rotate.set_token(token);
  absl::StatusOr<session::v1::RotateSessionResponse> rotated =
      client_->RotateSession(rotate);
  ASSERT_THAT(rotated, IsOk());
  WaitForEvents(1);
  EXPECT_FALSE(Valid(token));
  EXPECT_TRUE(Valid(rotated->token()));
}

TEST_F(CachingValidatorTest, RevokeSubjectEvictsAllButTheKeptSession) {
  StartValidator();
  const session::v1::CreateSessionResponse kept = Create("bob");
  const std::string other = Create("bob").token();
  Cache(kept.token());
  Cache(other);
  session::v1::RevokeSubjectSessionsRequest request;
  request.set_subject("bob");
  request.set_except_session_id(kept.session().id());
  ASSERT_THAT(client_->RevokeSubjectSessions(request), IsOk());
  WaitForEvents(1);
  EXPECT_FALSE(Valid(other));
  const int64_t hits = validator_->stats().hits;
  EXPECT_TRUE(Valid(kept.token()));
  EXPECT_EQ(validator_->stats().hits, hits + 1);
}

TEST_F(CachingValidatorTest, AnAdministratorsCutEvicts) {
  StartValidator();
  const std::string token = Create("carol").token();
  Cache(token);
  session::v1::RevokeSessionsIssuedBeforeRequest cut;
  *cut.mutable_issued_before() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(absl::Now()));
  ASSERT_THAT(client_->RevokeSessionsIssuedBefore(cut), IsOk());
  WaitForEvents(1);
  EXPECT_FALSE(Valid(token));
}

// The cache goes off when the stream is gone for max_staleness, and comes
// back only once the new stream is caught up: a session revoked while the
// validator was away is never answered from the cache.
TEST_F(CachingValidatorTest, ARestartTurnsTheCacheOffAndOnWithoutAStaleAnswer) {
  StartValidator();
  const std::string revoked = Create("dave").token();
  const std::string live = Create("dave").token();
  Cache(revoked);
  Cache(live);
  const int port = sessiond_.port();
  ASSERT_THAT(sessiond_.Stop(SIGKILL), IsOk());
  WaitUntilCacheIs(false);
  // Down: every Validate is an RPC, and fails.
  EXPECT_FALSE(validator_->Validate(live).ok());
  ASSERT_THAT(sessiond_.Start(Flags(port)), IsOk());
  // Revoked through a channel of its own (the validator's waits out its
  // reconnect backoff), likely before the validator is back, maybe after:
  // either way the session must not be served.
  ClientOptions options;
  options.target = sessiond_.address();
  absl::StatusOr<std::unique_ptr<Client>> other = Client::Create(options);
  ASSERT_THAT(other, IsOk());
  session::v1::RevokeSessionRequest revoke;
  revoke.set_token(revoked);
  ASSERT_THAT((*other)->RevokeSession(revoke), IsOk());
  EXPECT_FALSE(Valid(revoked));
  WaitUntilCacheIs(true);
  EXPECT_FALSE(Valid(revoked));
  EXPECT_GE(validator_->stats().resyncs, 1);  // the old cursor's run is gone
  Cache(live);
}

TEST_F(CachingValidatorTest, ForgetDropsAnAnswerAtOnce) {
  StartValidator();
  const std::string token = Create("gina").token();
  Cache(token);
  validator_->Forget(token);
  const int64_t misses = validator_->stats().misses;
  EXPECT_TRUE(Valid(token));
  EXPECT_EQ(validator_->stats().misses, misses + 1);
}

TEST_F(CachingValidatorTest, TheBoundHolds) {
  CachingValidatorOptions options;
  options.max_entries = 2;
  StartValidator(options);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Valid(Create("erin").token()));
    EXPECT_LE(validator_->stats().entries, 2);
  }
}

// With an injected clock: an answer lives half the idle timeout, then the
// next Validate goes to sessiond (and resets the idle timer there).
TEST_F(CachingValidatorTest, HalfTheIdleTimeoutCapsAnEntry) {
  absl::Mutex clock_mu;
  absl::Time now = absl::Now();
  CachingValidatorOptions options;
  options.max_staleness = absl::Hours(1);  // the fake clock must not stale it
  options.now = [&] {
    absl::MutexLock lock(&clock_mu);
    return now;
  };
  StartValidator(options);
  const std::string token = Create("frank", absl::Seconds(60)).token();
  Cache(token);
  {
    absl::MutexLock lock(&clock_mu);
    now += absl::Seconds(29);
  }
  int64_t misses = validator_->stats().misses;
  EXPECT_TRUE(Valid(token));
  EXPECT_EQ(validator_->stats().misses, misses);
  {
    absl::MutexLock lock(&clock_mu);
    now += absl::Seconds(2);
  }
  EXPECT_TRUE(Valid(token));
  EXPECT_EQ(validator_->stats().misses, misses + 1);
  // The stream's thread reads the clock above, on this frame: stop it first.
  validator_.reset();
}

// An entry's lifetime counts from before the request left, not from the
// answer's arrival, so a slow answer does not let it outlive the session's
// idle bound. Regression: it counted from the arrival.
TEST_F(CachingValidatorTest, AnEntrysLifetimeCountsFromTheRequest) {
  absl::Mutex clock_mu;
  absl::Time now = absl::Now();
  const absl::Time start = now;
  bool slow = false;  // each read on this thread moves the clock 20 s on
  const std::thread::id test_thread = std::this_thread::get_id();
  CachingValidatorOptions options;
  options.max_staleness = absl::Hours(1);
  options.now = [&] {
    absl::MutexLock lock(&clock_mu);
    const absl::Time read = now;
    if (slow && std::this_thread::get_id() == test_thread) {
      now += absl::Seconds(20);
    }
    return read;
  };
  StartValidator(options);
  const std::string token = Create("gina", absl::Seconds(60)).token();
  {
    absl::MutexLock lock(&clock_mu);
    slow = true;
  }
  EXPECT_TRUE(Valid(token));  // the answer takes "20 s": an entry to 30 s
  {
    absl::MutexLock lock(&clock_mu);
    slow = false;
    now = start + absl::Seconds(35);
  }
  const int64_t misses = validator_->stats().misses;
  EXPECT_TRUE(Valid(token));
  EXPECT_EQ(validator_->stats().misses, misses + 1);
  // The stream's thread reads the clock above, on this frame: stop it first.
  validator_.reset();
}

// The default clock is monotonic, not the wall clock.
// Review finding: a half-open connection (the server's host gone, or a
// middlebox that forgot it) kept the cache off until TCP gave up, up to
// 15 minutes; the client's keepalive pings now drop it, and the stream comes
// back on a new connection.
TEST_F(CachingValidatorTest, AHalfOpenConnectionIsDroppedAndTheCacheReturns) {
  std::unique_ptr<TcpRelay> relay = ConnectThroughRelay();
  ASSERT_NE(relay, nullptr);
  // Off within 200 ms of the freeze (heartbeats come every 50 ms), well
  // before the pings can find the connection dead (500 ms at the least).
  CachingValidatorOptions validator_options;
  validator_options.max_staleness = absl::Milliseconds(200);
  StartValidator(validator_options);
  // sessiond takes the pings on a connection with a stream open: a few of
  // them go by without the stream failing (too_many_pings would end it).
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(validator_->stats().stream_failures, 0)
      << validator_->stats().last_stream_error;
  relay->Freeze();
  WaitUntilCacheIs(false);
  WaitUntilCacheIs(true);
  EXPECT_GE(relay->accepted(), 2);
  validator_.reset();
}

// Review finding: a client that vanished (a half-open connection) kept its
// stream's --max_watchers slot until TCP gave up. With one slot per caller,
// the validator's new stream gets it back only once sessiond's own pings
// drop the old connection.
TEST_F(CachingValidatorTest, AVanishedWatchersSlotIsGivenBack) {
  ASSERT_THAT(sessiond_.Stop(SIGTERM), IsOk());
  std::vector<std::string> flags = Flags();
  flags.insert(flags.end(),
               {"--max_watchers_per_caller=1", "--keepalive_time=500ms",
                "--keepalive_timeout=500ms"});
  ASSERT_THAT(sessiond_.Start(flags), IsOk());
  std::unique_ptr<TcpRelay> relay = ConnectThroughRelay();
  ASSERT_NE(relay, nullptr);
  CachingValidatorOptions validator_options;
  validator_options.max_staleness = absl::Milliseconds(200);
  StartValidator(validator_options);
  relay->Freeze();
  WaitUntilCacheIs(false);
  WaitUntilCacheIs(true);
  validator_.reset();
}

// Review finding: the client pings while a stream is open even when
// sessiond sends nothing on it (a replica not caught up sends no
// heartbeat), and sessiond took pings more often than --min_ping_interval
// (then 5 min) there for abuse: GOAWAY too_many_pings after two strikes.
// Its default is now below the clients' keepalive_time.
TEST_F(CachingValidatorTest, PingsOnASilentStreamAreTakenAtTheMinimumInterval) {
  EXPECT_GE(ClientOptions().keepalive_time, ServerOptions().min_ping_interval);
  ASSERT_THAT(sessiond_.Stop(SIGTERM), IsOk());
  // gRPC sends a ping a second at most: 500 ms lets every one through.
  for (const std::string interval : {"500ms", "5m"}) {
    SCOPED_TRACE("--min_ping_interval=" + interval);
    ASSERT_THAT(sessiond_.Start({"--store=sqlite:" + dir_.File("s.db"),
                                 "--watch_heartbeat=1h",
                                 "--min_ping_interval=" + interval}),
                IsOk());
    ClientOptions options;
    options.target = sessiond_.address();
    options.keepalive_time = absl::Milliseconds(300);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
    CachingValidatorOptions validator_options;
    validator_options.max_staleness = absl::Hours(1);
    StartValidator(validator_options);  // caught_up, then nothing
    // Long enough for four pings, two more than the strikes allowed.
    absl::SleepFor(absl::Seconds(4));
    EXPECT_EQ(validator_->stats().stream_failures > 0, interval == "5m")
        << validator_->stats().last_stream_error;
    validator_.reset();
    ASSERT_THAT(sessiond_.Stop(SIGTERM), IsOk());
  }
  ASSERT_THAT(sessiond_.Start(Flags()), IsOk());  // for the fixture's end
}

TEST_F(CachingValidatorTest, OptionsThatCannotWorkAreRefused) {
  CachingValidatorOptions options;
  options.max_staleness = absl::ZeroDuration();
  EXPECT_THAT(CachingValidator::Create(*client_, options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = CachingValidatorOptions();
  options.max_entries = 0;
  EXPECT_THAT(CachingValidator::Create(*client_, options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = CachingValidatorOptions();
  options.max_reconnect_delay = options.reconnect_delay / 2;
  EXPECT_THAT(CachingValidator::Create(*client_, options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sessiond
