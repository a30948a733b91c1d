#pragma once
// Deterministic elementary functions for the samplers.
//
// libm's exp/log/cos/erfc may differ in the last bit between glibc versions,
// musl, Apple and Windows, and between x86 and ARM builds. These versions use
// only IEEE-754 +, -, *, /, sqrt, floor and frexp/ldexp (all exactly specified)
// in a fixed order, so the same inputs give the same bits everywhere, provided
// the compiler does not contract a*b+c into an FMA: src/es is compiled with
// -ffp-contract=off (GCC's default for -std=c++20 anyway). Accuracy is a few
// ulp (tests compare with libm), which is all a sampler needs.
#include <cstdint>

namespace qes::es {

double det_exp(double x);
double det_log(double x);    // x > 0
double det_log1p(double x);  // x > -1, accurate for small |x|
// cos(2*pi*turn / 2^32): the angle of Box-Muller as a 32-bit fraction of a turn.
double det_cos_turns(uint32_t turn);
double det_erfc(double x);

}  // namespace qes::es
