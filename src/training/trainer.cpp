#include "scorematch/training/trainer.hpp"

#include <chrono>
#include <cmath>

#include "scorematch/core/random_stream.hpp"

namespace scorematch {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

LocalData in_memory_rows(const Matrix* rows, RowRange range, const Matrix* target_score) {
  return {range, [rows, target_score](const std::vector<Index>& local) {
            const auto n = static_cast<Index>(local.size());
            LocalRows g;
            g.x.resize(n, rows->cols());
            if (target_score) g.target.resize(n, rows->cols());
            for (Index i = 0; i < n; ++i) {
              const Index r = local[static_cast<std::size_t>(i)];
              g.x.row(i) = rows->row(r);
              if (target_score) g.target.row(i) = target_score->row(r);
            }
            return g;
          }};
}

Trainer::Trainer(MlpSpec spec, const Objective& objective, TrainSettings settings, DataSplit split)
    : spec_(std::move(spec)),
      objective_(objective),
      settings_(settings),
      split_(split),
      pool64_(spec_),
      pool32_(spec_) {
  objective_.check(spec_);
}

BatchSums Trainer::sums(const Vector& theta, const Vector* teacher, const LocalData& data,
                        const std::vector<Index>& local, const std::vector<std::uint64_t>& streams,
                        std::uint32_t step, bool want_grad) {
  if (local.empty()) return {0.0, want_grad ? Vector::Zero(theta.size()) : Vector()};
  const LocalRows g = data.fetch(local);
  BatchInput input;
  input.x = &g.x;
  input.streams = &streams;
  input.seed = derive_seed(settings_.seed, kNoiseTag);
  input.step = step;
  input.target_score = g.target.size() > 0 ? &g.target : nullptr;
  input.train = want_grad;  // the training step; validation losses never take a gradient
  input.teacher = teacher;
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
  // The teacher of objectives that have one (dsm consistency): a held one, else the EMA of the
  // weights, when kept (else θ itself).
  const Vector* teacher = !objective_.needs_teacher()        ? nullptr
                          : held_teacher_ != nullptr         ? held_teacher_
                          : state.ema.size() == theta.size() ? &state.ema
                                                             : nullptr;
  const BatchSums local_sums = sums(theta, teacher, data, local, streams, step, true);

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
  double loss = 0.0;
  Index count = 0;
  std::vector<Index> local;
  std::vector<std::uint64_t> streams;
  auto flush = [&] {
    if (local.empty()) return;
    loss += sums(theta, nullptr, data, local, streams, kValidationStep, false).loss;
    count += static_cast<Index>(local.size());
    local.clear();
    streams.clear();
  };
  for (Index i = 0; i < data.range.size(); ++i)
    if (split_.is_validation(data.range.begin + i)) {
      local.push_back(i);
      streams.push_back(static_cast<std::uint64_t>(data.range.begin + i));
      if (static_cast<Index>(local.size()) == kValidationChunk) flush();
    }
  flush();
  std::vector<double> buffer{loss, static_cast<double>(count)};
  reduce(buffer);
  return buffer[1] > 0 ? buffer[0] / buffer[1] : std::nan("");
}

}  // namespace scorematch
