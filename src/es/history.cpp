#include "qes/es/history.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace qes::es {

const char* residual_mode_name(ResidualMode m) {
  switch (m) {
    case ResidualMode::kReplay: return "replay";
    case ResidualMode::kFull: return "full";
    case ResidualMode::kNone: return "none";
  }
  return "?";
}

bool residual_mode_from_name(const std::string& name, ResidualMode* out) {
  for (ResidualMode m : {ResidualMode::kReplay, ResidualMode::kFull, ResidualMode::kNone})
    if (name == residual_mode_name(m)) {
      *out = m;
      return true;
    }
  return false;
}

void UpdateConfig::validate() const {
  auto bad = [](const std::string& what) { throw std::invalid_argument("update config: " + what); };
  if (population == 0) bad("population must be positive");
  if (population >= (1u << 28)) bad("population must be below 2^28");
  if (mirrored && population % 2 != 0) bad("a mirrored population must be even, got " + std::to_string(population));
  if (mode == ResidualMode::kReplay && window == 0) bad("replay window K must be at least 1");
  if (!(gamma >= 0.0f && gamma <= 1.0f)) bad("gamma must be in [0, 1], got " + std::to_string(gamma));
  if (!(residual_clamp > 0.0f && residual_clamp <= 1000.0f)) bad("residual clamp must be in (0, 1000]");
  if (!(sparse_threshold >= 0.0 && sparse_threshold <= 1.0)) bad("sparse threshold must be in [0, 1]");
}

std::string History::to_json() const {
  nlohmann::json j;
  j["format"] = "qes-seed-history";
  j["version"] = kFormatVersion;
  j["tile_codes"] = kTileCodes;
  j["run_seed"] = std::to_string(config.run_seed);  // 64-bit: a string survives every JSON reader
  j["population"] = config.population;
  j["mirrored"] = config.mirrored;
  j["mode"] = residual_mode_name(config.mode);
  j["window"] = config.window;
  j["gamma"] = config.gamma;
  j["residual_clamp"] = config.residual_clamp;
  j["sampler"] = sampler_kind_name(config.sampler);
  j["sparse_threshold"] = config.sparse_threshold;
  nlohmann::json arr = nlohmann::json::array();
  for (const HistoryStep& s : steps) {
    nlohmann::json js;
    js["iteration"] = s.iteration;
    js["sigma"] = s.sigma;
    js["alpha"] = s.alpha;
    js["fitness"] = s.fitness;
    arr.push_back(std::move(js));
  }
  j["steps"] = std::move(arr);
  return j.dump(1);
}

History History::from_json(const std::string& text, const std::string& source) {
  auto bad = [&](const std::string& what) { throw std::invalid_argument(source + ": seed history: " + what); };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    bad(std::string("not valid JSON (") + e.what() + ")");
  }
  History h;
  try {
    if (j.value("format", "") != "qes-seed-history") bad("missing format tag 'qes-seed-history'");
    if (j.at("version").get<int>() != kFormatVersion) bad("unsupported version " + j.at("version").dump());
    if (j.at("tile_codes").get<uint32_t>() != kTileCodes)
      bad("written with tiles of " + j.at("tile_codes").dump() + " codes, this build uses " +
          std::to_string(kTileCodes));
    UpdateConfig& c = h.config;
    c.run_seed = std::stoull(j.at("run_seed").get<std::string>());
    c.population = j.at("population").get<uint32_t>();
    c.mirrored = j.at("mirrored").get<bool>();
    if (!residual_mode_from_name(j.at("mode").get<std::string>(), &c.mode)) bad("unknown mode " + j.at("mode").dump());
    c.window = j.at("window").get<uint32_t>();
    c.gamma = j.at("gamma").get<float>();
    c.residual_clamp = j.at("residual_clamp").get<float>();
    if (!sampler_kind_from_name(j.at("sampler").get<std::string>().c_str(), &c.sampler))
      bad("unknown sampler " + j.at("sampler").dump());
    c.sparse_threshold = j.at("sparse_threshold").get<double>();
    c.validate();
    for (const auto& js : j.at("steps")) {
      HistoryStep s;
      s.iteration = js.at("iteration").get<uint32_t>();
      s.sigma = js.at("sigma").get<double>();
      s.alpha = js.at("alpha").get<float>();
      s.fitness = js.at("fitness").get<std::vector<float>>();
      if (s.fitness.size() != c.population)
        bad("step " + std::to_string(s.iteration) + " has " + std::to_string(s.fitness.size()) +
            " fitness values, population is " + std::to_string(c.population));
      for (float f : s.fitness)
        if (!std::isfinite(f)) bad("step " + std::to_string(s.iteration) + " has a non-finite fitness value");
      if (!h.steps.empty() && s.iteration <= h.steps.back().iteration) bad("iterations are not increasing");
      h.steps.push_back(std::move(s));
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    bad(std::string("malformed (") + e.what() + ")");
  }
  return h;
}

void History::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(tmp + ": cannot open for writing");
    f << to_json();
    f.flush();
    if (!f) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": cannot rename " + tmp);
}

History History::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open seed history");
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json(ss.str(), path);
}

}  // namespace qes::es
