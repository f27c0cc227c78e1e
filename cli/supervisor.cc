#include "cli/supervisor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace stratus::cli {

void Supervisor::Add(Child child) { children_.push_back({std::move(child), State{}}); }

void Supervisor::AddRunning(Child child, Clock::time_point started) {
  State s;
  s.up = true;
  s.starts = 1;
  s.started = started;
  children_.push_back({std::move(child), s});
}

std::chrono::milliseconds Supervisor::Backoff(int failures_in_a_row) const {
  int64_t ms = options_.initial_backoff.count();
  for (int i = 1; i < failures_in_a_row && ms < options_.max_backoff.count(); ++i) ms *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(ms, options_.max_backoff.count()));
}

void Supervisor::Log(const std::string& name, const std::string& what) {
  if (options_.log) options_.log(name, what);
}

int Supervisor::Poll(Clock::time_point now) {
  int started = 0;
  for (Entry& e : children_) {
    State& s = e.state;
    if (s.up) {
      if (e.child.running()) {
        if (now - s.started >= options_.healthy_uptime) s.failures_in_a_row = 0;
        continue;
      }
      s.up = false;
      if (now - s.started >= options_.healthy_uptime) s.failures_in_a_row = 0;
      s.failures_in_a_row++;
      auto delay = Backoff(s.failures_in_a_row);
      s.next_start = now + delay;
      std::string reason = e.child.exit_reason ? e.child.exit_reason() : "exited";
      Log(e.child.name, absl::StrCat(reason, "; restarting in ",
                                     std::chrono::duration<double>(delay).count(), " s"));
    }
    if (now < s.next_start) continue;
    absl::Status st = e.child.start();
    if (st.ok()) {
      s.up = true;
      s.started = now;
      s.starts++;
      started++;
      if (s.starts > 1) Log(e.child.name, "restarted");
    } else {
      s.failures_in_a_row++;
      auto delay = Backoff(s.failures_in_a_row);
      s.next_start = now + delay;
      Log(e.child.name, absl::StrCat("could not start: ", st.message(), "; retrying in ",
                                     std::chrono::duration<double>(delay).count(), " s"));
    }
  }
  return started;
}

const Supervisor::State* Supervisor::state(const std::string& name) const {
  for (const Entry& e : children_) {
    if (e.child.name == name) return &e.state;
  }
  return nullptr;
}

}  // namespace stratus::cli
