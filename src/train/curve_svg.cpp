// The training curve as a hand-written SVG: no plotting library, a few
// hundred bytes of markup per series. Left axis: mean training reward of the
// population; right axis: held-out accuracy in percent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "qes/train/atomic_write.hpp"
#include "qes/train/metrics.hpp"

namespace qes::train {

namespace {

constexpr double kW = 720, kH = 420, kLeft = 64, kRight = 64, kTop = 40, kBottom = 48;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
double nice_ceiling(double v) {
  if (!(v > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

}  // namespace

std::string curve_svg(const std::vector<CurvePoint>& curve, const std::string& title) {
  int max_it = 1;
  double max_reward = 0;
  for (const auto& p : curve) {
    max_it = std::max(max_it, p.iteration);
    if (p.has_reward) max_reward = std::max(max_reward, p.reward_mean);
  }
  const double reward_top = nice_ceiling(std::max(max_reward, 1e-9) * 1.05);
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto x = [&](double it) { return kLeft + pw * it / max_it; };
  auto y_reward = [&](double r) { return kTop + ph * (1 - std::clamp(r / reward_top, 0.0, 1.0)); };
  auto y_acc = [&](double a) { return kTop + ph * (1 - std::clamp(a, 0.0, 1.0)); };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", kW) + "\" height=\"" + fmt("%.0f", kH) +
       "\" viewBox=\"0 0 " + fmt("%.0f", kW) + " " + fmt("%.0f", kH) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt("%.1f", kW / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" + escape(title) + "</text>\n";
  // Grid and axes: five horizontal lines, labelled on both sides.
  for (int i = 0; i <= 5; i++) {
    const double f = i / 5.0, yy = kTop + ph * (1 - f);
    s += "<line x1=\"" + fmt("%.1f", kLeft) + "\" y1=\"" + fmt("%.1f", yy) + "\" x2=\"" + fmt("%.1f", kLeft + pw) +
         "\" y2=\"" + fmt("%.1f", yy) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fmt("%.1f", kLeft - 6) + "\" y=\"" + fmt("%.1f", yy + 4) + "\" text-anchor=\"end\" fill=\"#1f77b4\">" +
         fmt("%.3g", reward_top * f) + "</text>\n";
    s += "<text x=\"" + fmt("%.1f", kLeft + pw + 6) + "\" y=\"" + fmt("%.1f", yy + 4) + "\" fill=\"#d62728\">" +
         fmt("%.0f%%", 100 * f) + "</text>\n";
  }
  for (int i = 0; i <= 5; i++) {
    const double it = std::round(max_it * i / 5.0);
    s += "<text x=\"" + fmt("%.1f", x(it)) + "\" y=\"" + fmt("%.1f", kTop + ph + 18) + "\" text-anchor=\"middle\">" +
         fmt("%.0f", it) + "</text>\n";
  }
  s += "<rect x=\"" + fmt("%.1f", kLeft) + "\" y=\"" + fmt("%.1f", kTop) + "\" width=\"" + fmt("%.1f", pw) +
       "\" height=\"" + fmt("%.1f", ph) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  s += "<text x=\"" + fmt("%.1f", kLeft + pw / 2) + "\" y=\"" + fmt("%.1f", kH - 10) + "\" text-anchor=\"middle\">iteration</text>\n";
  s += "<text x=\"16\" y=\"" + fmt("%.1f", kTop + ph / 2) + "\" fill=\"#1f77b4\" transform=\"rotate(-90 16 " +
       fmt("%.1f", kTop + ph / 2) + ")\" text-anchor=\"middle\">mean reward (population)</text>\n";
  s += "<text x=\"" + fmt("%.1f", kW - 12) + "\" y=\"" + fmt("%.1f", kTop + ph / 2) + "\" fill=\"#d62728\" transform=\"rotate(90 " +
       fmt("%.1f", kW - 12) + " " + fmt("%.1f", kTop + ph / 2) + ")\" text-anchor=\"middle\">held-out accuracy</text>\n";

  std::string reward_pts, acc_pts, dots;
  for (const auto& p : curve) {
    if (p.has_reward) reward_pts += fmt("%.1f", x(p.iteration)) + "," + fmt("%.1f", y_reward(p.reward_mean)) + " ";
    if (p.has_eval) {
      acc_pts += fmt("%.1f", x(p.iteration)) + "," + fmt("%.1f", y_acc(p.eval_accuracy)) + " ";
      dots += "<circle cx=\"" + fmt("%.1f", x(p.iteration)) + "\" cy=\"" + fmt("%.1f", y_acc(p.eval_accuracy)) +
              "\" r=\"3\" fill=\"#d62728\"><title>iteration " + std::to_string(p.iteration) + ": " +
              fmt("%.2f%%", 100 * p.eval_accuracy) + "</title></circle>\n";
    }
  }
  if (!reward_pts.empty())
    s += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" + reward_pts + "\"/>\n";
  if (!acc_pts.empty())
    s += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" points=\"" + acc_pts + "\"/>\n";
  s += dots;
  s += "</svg>\n";
  return s;
}

void write_curve_svg(const std::string& path, const std::vector<CurvePoint>& curve, const std::string& title) {
  write_file_atomic(path, curve_svg(curve, title));
}

}  // namespace qes::train
