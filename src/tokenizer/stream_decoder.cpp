#include "qes/tokenizer.hpp"
#include "utf8.hpp"

namespace qes {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_special, TokenId previous)
    : tok_(&tokenizer), render_special_(render_special) {
  reset(previous);
}

std::string StreamDecoder::push(TokenId id) {
  std::string_view piece = tok_->token_to_piece(id, render_special_);
  const Vocab& v = tok_->vocab();
  // llama2.c: the first word after BOS loses the space SentencePiece put in front of it.
  if (v.model == VocabModel::Spm && v.add_space_prefix && at_word_start_ && !tok_->is_special(id) &&
      !piece.empty() && piece[0] == ' ') {
    piece.remove_prefix(1);
  }
  at_word_start_ = tok_->is_special(id);
  pending_ += piece;
  const size_t hold = utf8::incomplete_tail_length(pending_);
  std::string out = sanitize_utf8(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = sanitize_utf8(pending_);
  pending_.clear();
  return out;
}

void StreamDecoder::reset(TokenId previous) {
  pending_.clear();
  at_word_start_ = previous == kNoToken || tok_->is_special(previous);
}

}  // namespace qes
