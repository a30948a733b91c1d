#include "qes/train/progress.hpp"

#include <cmath>
#include <string>

#include <unistd.h>

namespace qes::train {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

Progress::Progress(std::FILE* out, bool enabled)
    : out_(out), enabled_(enabled && out != nullptr), tty_(out && ::isatty(::fileno(out))) {}

void Progress::update(const ProgressLine& p) {
  if (!enabled_) return;
  const double per_it = p.done_here > 0 ? p.elapsed_s / p.done_here : 0;
  const std::string eta = p.done_here > 0 ? format_duration(per_it * (p.total - p.iteration)) : "?";
  char acc[32] = "-";
  if (p.accuracy >= 0) std::snprintf(acc, sizeof acc, "%.1f%%", 100 * p.accuracy);
  char text[256];
  std::snprintf(text, sizeof text, "it %d/%d  reward %.4f  best %.4f  acc %s  %.0f tok/s  ETA %s", p.iteration,
                p.total, p.reward_mean, p.reward_best, acc, p.tokens_per_s, eta.c_str());
  if (tty_) {
    constexpr int kWidth = 24;
    const int filled = p.total > 0 ? static_cast<int>(double(kWidth) * p.iteration / p.total) : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, '-');
    std::fprintf(out_, "\r\033[K[%s] %s", bar.c_str(), text);
    bar_open_ = true;
  } else {
    std::fprintf(out_, "qes train: %s\n", text);
  }
  std::fflush(out_);
}

void Progress::message(const std::string& text) {
  if (!enabled_) return;
  if (bar_open_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", text.c_str());
  bar_open_ = false;
  std::fflush(out_);
}

void Progress::finish() {
  if (enabled_ && bar_open_) std::fputc('\n', out_);
  bar_open_ = false;
  if (out_) std::fflush(out_);
}

}  // namespace qes::train
