// The supervisor of `stratus up` with real child processes and a real PostgreSQL: a killed
// child comes back, a crash-looping one backs off (1, 2, 4, 8, 8 s, on an injected clock) and
// its backoff resets after healthy uptime, and a killed PostgreSQL is restarted and serves again.
#include "cli/supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/db.h"
#include "common/embedded_postgres.h"
#include "common/subprocess.h"
#include "common/testing/eventually.h"

namespace stratus::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::stratus::testing_util::Eventually;
namespace fs = std::filesystem;

// A child that runs `argv` (changeable between starts).
struct ProcessChild {
  std::vector<std::string> argv;
  std::unique_ptr<Subprocess> process;
  Supervisor::Child Child(const std::string& name) {
    return {.name = name,
            .start = [this]() -> absl::Status {
              auto p = Subprocess::Spawn({.argv = argv});
              if (!p.ok()) return p.status();
              process = std::move(*p);
              return absl::OkStatus();
            },
            .running = [this] { return process && process->Running(); },
            .exit_reason =
                [this] {
                  return absl::StrCat("exited with code ", process->exit_code().value_or(-1));
                }};
  }
};

TEST(SupervisorTest, KilledChildComesBack) {
  ProcessChild child{{"sleep", "1000"}};
  Supervisor sup({.initial_backoff = milliseconds(50)});
  sup.Add(child.Child("svc"));
  ASSERT_EQ(sup.Poll(Supervisor::Clock::now()), 1);
  pid_t first = child.process->pid();
  child.process->Signal(SIGKILL);
  ASSERT_TRUE(Eventually(
      [&] {
        sup.Poll(Supervisor::Clock::now());
        return sup.state("svc")->starts == 2 && child.process->Running();
      },
      seconds(5)));
  EXPECT_NE(child.process->pid(), first);
  EXPECT_EQ(sup.state("svc")->failures_in_a_row, 1);
}

TEST(SupervisorTest, CrashLoopBacksOffAndHealthyUptimeResetsIt) {
  ProcessChild child{{"sh", "-c", "exit 3"}};
  std::vector<std::string> log;
  Supervisor sup({.initial_backoff = seconds(1),
                  .max_backoff = seconds(8),
                  .healthy_uptime = seconds(60),
                  .log = [&](const std::string& name, const std::string& what) {
                    log.push_back(name + ": " + what);
                  }});
  sup.Add(child.Child("svc"));
  auto t = Supervisor::Clock::time_point{} + std::chrono::hours(1);
  ASSERT_EQ(sup.Poll(t), 1);
  std::vector<int64_t> delays;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(child.process->Wait(seconds(10)).has_value());  // it exits at once
    ASSERT_EQ(sup.Poll(t), 0);                                  // noted, not restarted yet
    auto due = sup.state("svc")->next_start;
    delays.push_back(std::chrono::duration_cast<milliseconds>(due - t).count());
    EXPECT_EQ(sup.Poll(due - milliseconds(1)), 0) << "restarted before its backoff";
    t = due;
    ASSERT_EQ(sup.Poll(t), 1);
  }
  EXPECT_THAT(delays, testing::ElementsAre(1000, 2000, 4000, 8000, 8000));
  EXPECT_EQ(sup.state("svc")->starts, 6);
  EXPECT_THAT(log, testing::Contains(testing::HasSubstr("exited with code 3")));

  // Now it stays up past the healthy uptime before dying: the next restart is quick again.
  ASSERT_TRUE(child.process->Wait(seconds(10)).has_value());
  child.argv = {"sleep", "1000"};
  ASSERT_EQ(sup.Poll(t), 0);
  t = sup.state("svc")->next_start;
  ASSERT_EQ(sup.Poll(t), 1);
  t += seconds(61);
  EXPECT_EQ(sup.Poll(t), 0);
  EXPECT_EQ(sup.state("svc")->failures_in_a_row, 0);
  child.process->Signal(SIGKILL);
  ASSERT_TRUE(child.process->Wait(seconds(10)).has_value());
  sup.Poll(t);
  EXPECT_EQ(sup.state("svc")->next_start - t, seconds(1));
}

TEST(SupervisorTest, FailedStartsBackOffToo) {
  int attempts = 0;
  Supervisor sup({.initial_backoff = seconds(1), .max_backoff = seconds(4)});
  sup.Add({.name = "svc",
           .start =
               [&] {
                 ++attempts;
                 return absl::NotFoundError("no such binary");
               },
           .running = [] { return false; }});
  auto t = Supervisor::Clock::time_point{} + std::chrono::hours(1);
  // Over 20 s of polling every 100 ms: starts at 0, 1, 3, 7, 11, 15, 19 s.
  for (int i = 0; i <= 200; ++i) sup.Poll(t + milliseconds(100 * i));
  EXPECT_EQ(attempts, 7);
  EXPECT_FALSE(sup.state("svc")->up);
}

TEST(SupervisorTest, KilledPostgresIsRestartedAndServes) {
  fs::path dir = fs::temp_directory_path() / absl::StrCat("stratus-supervisor-", getpid());
  auto pg = EmbeddedPostgres::Start({.data_dir = (dir / "pg").string()});
  ASSERT_TRUE(pg.ok()) << pg.status();
  Supervisor sup({.initial_backoff = milliseconds(100)});
  sup.AddRunning({.name = "postgres",
                  .start = [&] { return (*pg)->Restart(); },
                  .running = [&] { return (*pg)->running(); }},
                 Supervisor::Clock::now());
  (*pg)->Kill();
  ASSERT_TRUE(Eventually(
      [&] {
        sup.Poll(Supervisor::Clock::now());
        return sup.state("postgres")->starts == 2;
      },
      seconds(30)));
  auto db = Database::Create({.url = (*pg)->url()});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_TRUE(Eventually([&] { return (*db)->Ping().ok(); }, seconds(10)));
  db->reset();
  pg->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stratus::cli
