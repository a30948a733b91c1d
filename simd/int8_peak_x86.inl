// Body shared by the x86 int8 peak loops. Included inside each ISA file's own
// namespace (so the template cannot collide across translation units compiled
// with different flags); Ops supplies Vec, zero, set1, add, store, mac and
// kMacsPerOp. 12 independent accumulators cover the dot-product latency at two
// issues per cycle.
template <class Ops>
int64_t peak_loop(int64_t iterations, int32_t* sink) {
  using Vec = typename Ops::Vec;
  Vec a = Ops::set1(0x01020304), b = Ops::set1(0x05060708);
  Vec c[12];
  for (auto& v : c) v = Ops::zero();
  for (int64_t i = 0; i < iterations; ++i) {
    for (auto& v : c) Ops::mac(v, a, b);
    // An opaque barrier keeps the compiler from hoisting the loop-invariant product.
    __asm__ volatile("" : "+x"(a));
  }
  Vec s = c[0];
  for (int j = 1; j < 12; ++j) s = Ops::add(s, c[j]);
  alignas(64) int32_t lanes[sizeof(Vec) / 4];
  Ops::store(lanes, s);
  int32_t total = 0;
  for (int32_t v : lanes) total += v;
  *sink += total;
  return iterations * 12 * Ops::kMacsPerOp;
}
