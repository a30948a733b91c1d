#include "qes/train/metrics.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

#include "qes/train/atomic_write.hpp"

namespace qes::train {

MetricsLog::MetricsLog(const std::string& path, int resume_from) : path_(path) {
  std::string kept;
  if (resume_from >= 0) {
    std::ifstream in(path);
    std::string line;
    for (int n = 1; in && std::getline(in, line); n++) {
      if (line.empty()) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const std::exception&) {
        break;  // a line cut by a crash ends what we keep
      }
      if (!j.contains("iteration") || j["iteration"].get<int>() > resume_from) continue;
      remember(j);
      kept += line + "\n";
    }
  }
  write_file_atomic(path, kept);
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) throw std::runtime_error(path + ": cannot open the metrics file for appending");
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::remember(const nlohmann::json& j) {
  CurvePoint p;
  p.iteration = j.at("iteration").get<int>();
  if (j.contains("reward_mean")) {
    p.has_reward = true;
    p.reward_mean = j["reward_mean"].get<double>();
  }
  if (j.contains("eval_accuracy")) {
    p.has_eval = true;
    p.eval_accuracy = j["eval_accuracy"].get<double>();
  }
  curve_.push_back(p);
}

void MetricsLog::append(const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0)
    throw std::runtime_error(path_ + ": cannot write the metrics");
  remember(line);
}

}  // namespace qes::train
