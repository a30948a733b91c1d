#pragma once
// Training progress on stderr. On a terminal: one line rewritten in place per
// iteration (bar, iteration, mean reward, best member, last held-out accuracy,
// tokens/s, ETA). Elsewhere (a log file, CI): one plain line per iteration.
#include <cstdio>
#include <string>

namespace qes::train {

struct ProgressLine {
  int iteration = 0, total = 0;
  double reward_mean = 0, reward_best = 0;
  double accuracy = -1;  // last held-out accuracy (fraction); < 0: none yet
  double tokens_per_s = 0;
  double elapsed_s = 0;  // since this process started iterating
  int done_here = 0;     // iterations this process ran (for the ETA after a resume)
};

class Progress {
 public:
  Progress(std::FILE* out, bool enabled);
  void update(const ProgressLine& line);
  void message(const std::string& text);  // a full line, keeping the bar intact
  void finish();                          // ends the bar's line

 private:
  std::FILE* out_;
  bool enabled_, tty_;
  bool bar_open_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace qes::train
