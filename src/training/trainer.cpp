#include "scorematch/training/trainer.hpp"

#include <chrono>
#include <cmath>

#include "scorematch/core/random_stream.hpp"

namespace scorematch {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The listed local rows (and their target scores) as contiguous matrices.
struct Gathered {
  Matrix x, target;
};
Gathered gather(const LocalData& data, const std::vector<Index>& local, Index d) {
  const auto n = static_cast<Index>(local.size());
  Gathered g;
  g.x.resize(n, d);
  if (data.target_score) g.target.resize(n, d);
  for (Index i = 0; i < n; ++i) {
    const Index r = local[static_cast<std::size_t>(i)];
    g.x.row(i) = data.rows->row(r);
    if (data.target_score) g.target.row(i) = data.target_score->row(r);
  }
  return g;
}
}  // namespace

Trainer::Trainer(MlpSpec spec, const Objective& objective, TrainSettings settings, DataSplit split)
    : spec_(std::move(spec)),
      objective_(objective),
      settings_(settings),
      split_(split),
      pool64_(spec_),
      pool32_(spec_) {
  objective_.check(spec_);
}

BatchSums Trainer::sums(const Vector& theta, const LocalData& data, const std::vector<Index>& local,
                        const std::vector<std::uint64_t>& streams, std::uint32_t step,
                        bool want_grad) {
  if (local.empty()) return {0.0, want_grad ? Vector::Zero(theta.size()) : Vector()};
  const Gathered g = gather(data, local, spec_.dim);
  BatchInput input;
  input.x = &g.x;
  input.streams = &streams;
  input.seed = derive_seed(settings_.seed, kNoiseTag);
  input.step = step;
  input.target_score = data.target_score ? &g.target : nullptr;
  return settings_.float32 ? batch_sums(objective_, spec_, theta, input, want_grad, pool32_)
                           : batch_sums(objective_, spec_, theta, input, want_grad, pool64_);
}

StepResult Trainer::step(std::uint32_t step, Vector& theta, const Optimizer& optimizer,
                         OptimizerState& state, const LocalData& data, const Reduce& reduce,
                         std::vector<double> extras) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Index> rows = minibatch_rows(split_, settings_.batch, settings_.seed, step);
  std::vector<std::uint64_t> streams;
  std::vector<Index> local;
  for (std::size_t j = 0; j < rows.size(); ++j)
    if (rows[j] >= data.range.begin && rows[j] < data.range.end) {
      streams.push_back(j);
      local.push_back(rows[j] - data.range.begin);
    }
  const auto n = static_cast<Index>(local.size());
  const BatchSums local_sums = sums(theta, data, local, streams, step, true);

  StepResult result;
  result.local_samples = n;
  result.compute_seconds = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const auto P = static_cast<std::size_t>(theta.size());
  std::vector<double> buffer(local_sums.grad.data(), local_sums.grad.data() + P);
  buffer.push_back(local_sums.loss);
  buffer.insert(buffer.end(), extras.begin(), extras.end());
  reduce(buffer);
  result.reduce_seconds = seconds_since(t1);

  const double inv_b = 1.0 / static_cast<double>(settings_.batch);
  const Vector grad = Eigen::Map<const Vector>(buffer.data(), theta.size()) * inv_b;
  result.loss = buffer[P] * inv_b;
  result.extras.assign(buffer.begin() + static_cast<std::ptrdiff_t>(P) + 1, buffer.end());
  result.finite = std::isfinite(result.loss) && grad.allFinite();
  if (result.finite) result.update = optimizer.apply(theta, grad, state);
  return result;
}

double Trainer::validation_loss(const Vector& theta, const LocalData& data, const Reduce& reduce) {
  std::vector<Index> local;
  std::vector<std::uint64_t> streams;
  for (Index i = 0; i < data.rows->rows(); ++i)
    if (split_.is_validation(data.range.begin + i)) {
      local.push_back(i);
      streams.push_back(static_cast<std::uint64_t>(data.range.begin + i));
    }
  std::vector<double> buffer{sums(theta, data, local, streams, kValidationStep, false).loss,
                             static_cast<double>(local.size())};
  reduce(buffer);
  return buffer[1] > 0 ? buffer[0] / buffer[1] : std::nan("");
}

}  // namespace scorematch
