#include "qes/train/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace qes::train {

namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_sigint(int) {
  g_interrupted.store(true, std::memory_order_relaxed);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process
}
}  // namespace

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }
void remove_interrupt_handler() { std::signal(SIGINT, SIG_DFL); }
bool interrupt_requested() { return g_interrupted.load(std::memory_order_relaxed); }
void request_interrupt() { g_interrupted.store(true, std::memory_order_relaxed); }
void clear_interrupt() { g_interrupted.store(false, std::memory_order_relaxed); }

}  // namespace qes::train
