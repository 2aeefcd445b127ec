// The change log: one log line whenever a job's outcome, reporter or notice changes, and a warning
// when a flow the policy denies gets through, and where a silently dropped flow dies. An audit
// trail of what broke and who said so, never a line per probe. A ResultSink on the engine's thread.
#pragma once

#include <map>
#include <string>

#include "engine/sink.hpp"

namespace fedprobe {

class ChangeLog : public ResultSink {
  public:
    void jobs_changed(std::span<LiveJob* const> jobs) override;
    void finished(LiveJob& job, const RoundReport& round) override;
    void flow_traced(LiveJob& job, const ProbeResult& path_result) override;

  private:
    // The last notice of each job that has had one (by job key): few jobs ever do.
    std::map<std::string, std::string> notices_;
};

}  // namespace fedprobe
