// exact / numeric / regex answer checks for the JSONL task (jsonl_task.hpp).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>

#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/jsonl_task.hpp"

namespace qes::tasks {

struct AnswerMatcher::CompiledRegex {
  pcre2_code* code = nullptr;
  ~CompiledRegex() { pcre2_code_free(code); }
};

namespace {

std::string_view strip_ascii_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view match_kind_name(MatchKind kind) {
  switch (kind) {
    case MatchKind::exact: return "exact";
    case MatchKind::numeric: return "numeric";
    case MatchKind::regex: return "regex";
  }
  return "unknown";
}

std::optional<double> last_number_in(std::string_view text) {
  std::optional<double> last;
  size_t i = 0;
  while (i < text.size()) {
    // A number starts at a digit, or at a '.' followed by a digit.
    const bool starts = is_digit(text[i]) || (text[i] == '.' && i + 1 < text.size() && is_digit(text[i + 1]));
    if (!starts) {
      ++i;
      continue;
    }
    size_t begin = i;
    if (begin > 0 && (text[begin - 1] == '-' || text[begin - 1] == '+')) --begin;
    size_t end = i;
    while (end < text.size() && is_digit(text[end])) ++end;
    if (end < text.size() && text[end] == '.' && end + 1 < text.size() && is_digit(text[end + 1])) {
      ++end;
      while (end < text.size() && is_digit(text[end])) ++end;
    }
    if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
      size_t e = end + 1;
      if (e < text.size() && (text[e] == '+' || text[e] == '-')) ++e;
      if (e < text.size() && is_digit(text[e])) {
        while (e < text.size() && is_digit(text[e])) ++e;
        end = e;
      }
    }
    last = parse_python_float(text.substr(begin, end - begin));
    i = end;
  }
  return last;
}

AnswerMatcher::AnswerMatcher(MatchKind kind, std::string answer) : kind_(kind), answer_(std::move(answer)) {
  if (kind_ == MatchKind::numeric) {
    const auto value = parse_python_float(answer_);
    if (!value || !std::isfinite(*value))
      throw std::invalid_argument("numeric answer \"" + answer_ + "\" is not a finite number");
    number_ = *value;
  } else if (kind_ == MatchKind::regex) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(answer_.data()), answer_.size(),
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      throw std::invalid_argument("regex answer \"" + answer_ + "\" does not compile: " +
                                  reinterpret_cast<const char*>(message) + " at offset " + std::to_string(offset));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // a speed-up only: without JIT, matching interprets
    auto compiled = std::make_shared<CompiledRegex>();
    compiled->code = code;
    regex_ = std::move(compiled);
  }
}

bool AnswerMatcher::matches(std::string_view output) const {
  switch (kind_) {
    case MatchKind::exact:
      return strip_ascii_space(output) == strip_ascii_space(answer_);
    case MatchKind::numeric: {
      const auto value = last_number_in(output);
      return value && std::fabs(*value - number_) <= 1e-6 * std::max(1.0, std::fabs(number_));
    }
    case MatchKind::regex: {
      // Match data per call: the compiled pattern is shared between threads.
      pcre2_match_data* data = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
      if (!data) throw std::bad_alloc();
      // PCRE2 10.42 refuses a null subject even when it is empty.
      const char* subject = output.empty() ? "" : output.data();
      const int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(subject), output.size(), 0, 0, data,
                                 nullptr);
      pcre2_match_data_free(data);
      // rc < 0: no match, or the match limit ran out; either way not a match.
      return rc >= 0;
    }
  }
  return false;
}

}  // namespace qes::tasks
