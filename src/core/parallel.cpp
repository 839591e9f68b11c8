// OpenMP and oneTBB implementations of scorematch/core/parallel.hpp.
#include "scorematch/core/parallel.hpp"

#include <exception>
#include <mutex>

#if defined(SCOREMATCH_BACKEND_TBB)
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <memory>
#else
#include <omp.h>
#endif

namespace scorematch::parallel {

namespace {
// Exceptions must not cross an OpenMP region; we keep the one from the lowest chunk (so the
// reported error does not depend on scheduling) and rethrow it after the loop.
class FirstError {
 public:
  void record(Index chunk) {
    std::lock_guard lock(mutex_);
    if (!error_ || chunk < chunk_) {
      error_ = std::current_exception();
      chunk_ = chunk;
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  Index chunk_ = 0;
};

void run_chunk(const std::function<void(Index, Index, Index)>& body, Index n, Index grain, Index c,
               FirstError& errors) {
  try {
    body(c, c * grain, std::min(n, (c + 1) * grain));
  } catch (...) {
    errors.record(c);
  }
}
}  // namespace

#if defined(SCOREMATCH_BACKEND_TBB)

namespace {
// TBB's thread limit is process-wide and lives as long as its global_control object.
std::unique_ptr<tbb::global_control>& thread_limit() {
  static std::unique_ptr<tbb::global_control> limit;
  return limit;
}
}  // namespace

const char* backend_name() {
  return "tbb";
}

int num_threads() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

void set_num_threads(int n) {
  thread_limit().reset();
  if (n > 0)
    thread_limit() = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(n));
}

int thread_index() {
  const int index = tbb::this_task_arena::current_thread_index();
  return index < 0 ? 0 : index;
}

int max_thread_slots() {
  return tbb::this_task_arena::max_concurrency();
}

void for_each_chunk(Index n, Index grain, const std::function<void(Index, Index, Index)>& body) {
  const Index chunks = num_chunks(n, grain);
  FirstError errors;
  tbb::parallel_for(
      tbb::blocked_range<Index>(0, chunks, 1),
      [&](const tbb::blocked_range<Index>& r) {
        for (Index c = r.begin(); c != r.end(); ++c) run_chunk(body, n, grain, c, errors);
      },
      tbb::simple_partitioner());
  errors.rethrow();
}

#else

const char* backend_name() {
  return "openmp";
}

int num_threads() {
  return omp_get_max_threads();
}

void set_num_threads(int n) {
  static const int default_threads = omp_get_max_threads();
  omp_set_num_threads(n > 0 ? n : default_threads);
}

int thread_index() {
  return omp_get_thread_num();
}

int max_thread_slots() {
  return omp_get_max_threads();
}

void for_each_chunk(Index n, Index grain, const std::function<void(Index, Index, Index)>& body) {
  const Index chunks = num_chunks(n, grain);
  FirstError errors;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index c = 0; c < chunks; ++c) run_chunk(body, n, grain, c, errors);
  errors.rethrow();
}

#endif

}  // namespace scorematch::parallel
