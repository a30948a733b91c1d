#include "qes/generate_text.hpp"

#include <stdexcept>

namespace qes {

std::string TokenizerDecoder::piece(int32_t previous, int32_t token) const {
  std::string_view p = tok_.token_to_piece(token);
  const Vocab& v = tok_.vocab();
  const bool word_start = previous < 0 || previous == tok_.bos() || tok_.is_special(previous);
  if (v.model == VocabModel::Spm && v.add_space_prefix && word_start && !p.empty() && p[0] == ' ') p.remove_prefix(1);
  return std::string(p);
}

std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids;
  if (!text.empty()) ids = tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/true);
  if (ids.empty()) {
    if (tokenizer.bos() == kNoToken)
      throw std::invalid_argument("empty prompt, and the vocabulary has no BOS token to start from");
    ids.push_back(tokenizer.bos());
  }
  return ids;
}

}  // namespace qes
