// Parallel tempering (replica exchange; Swendsen & Wang 1986, Geyer 1991) with the non-reversible
// even/odd swap scheme and schedule adaptation of Syed, Bouchard-Côté, Deligiannidis & Doucet
// (2022), "Non-reversible parallel tempering: a scalable highly parallel MCMC scheme", JRSS B.
//
// Each chain carries K replicas at 0 = β₀ < β₁ < … < β_{K−1} = 1 on the geometric path from a
// Gaussian reference q₀ = N(m, diag(sd²)) (the model's standardisation, or --data's moments) to
// the model p ∝ e^{−φ}: π_β ∝ q₀^{1−β} e^{−βφ}. A transition is
//   1. one MALA move of every replica on its π_{β_k} (sampling/tempered_mala.hpp), all K·n
//      replicas of a block evaluated in one batched call;
//   2. swaps of the pairs (k, k+1) with k even at even steps and k odd at odd steps (DEO),
//      accepted with probability min(1, exp((β_k − β_{k+1})(ℓ(x_{k+1}) − ℓ(x_k)))), ℓ = φ₀ − φ.
// Only the β = 1 replica (the chain's state x) gives draws. Round trips: a replica label that
// travels from β = 0 to β = 1 and back counts one (Katzgraber et al. 2006; Syed et al. §3).
//
// Warm-up, per chain (chains stay independent: bitwise for any ranks × threads, no
// communication): each replica's MALA step adapts by dual averaging toward target_accept; at
// warm-up steps W/8, W/4 and W/2 the schedule is re-fitted to equalise the swap rejection rates
// (Syed et al. Alg. 4: with r_k the mean rejection probability of pair k in the round, the
// cumulative barrier Λ(β_k) = Σ_{j<k} r_j is interpolated linearly and β_k ← Λ⁻¹(k Λ(1)/(K−1))),
// and the step adaptation restarts. Random numbers: replica k of chain c moves with
// RandomStream(key_move, c·K + k, step), pair k swaps with RandomStream(key_swap, c·K + k, step).
#include <algorithm>
#include <cmath>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/sampling/dual_averaging.hpp"
#include "scorematch/sampling/sampler.hpp"
#include "scorematch/sampling/tempered_mala.hpp"

namespace scorematch::samplers {

namespace {
constexpr std::uint64_t kPtMoveTag = 61, kPtSwapTag = 62;

// The typed state of a block's chains (replica k of chain r at row k·n + r of the stacks).
struct PtState {
  Matrix x, s;  // K·n × d: states and model scores, slot-major
  Vector phi;   // K·n: model energies
  Matrix beta;  // n × K: each chain's schedule
  Matrix log_step, log_step_bar, h_bar, adapt_start;                  // n × K
  Vector adapt_iter;                                                  // n
  Matrix swap_accepted, swap_proposed, round_rejection, round_count;  // n × (K − 1)
  Matrix label, label_state;  // n × K: label at each slot; per label −1 unknown, 0 from β 0, 1 up
  Vector round_trips, accepted, proposed, evaluations;  // n
};

class ParallelTempering final : public McmcSampler {
 public:
  ParallelTempering(const SamplerSettings& s, const ScoreModel& model)
      : McmcSampler(s, model),
        energy_model_(model),
        K_(s.replicas),
        reference_{s.reference_mean, s.reference_sd} {}
  std::string name() const override { return "pt"; }

  std::vector<std::string> aux_names() const override {
    std::vector<std::string> names;
    const Index d = dim();
    auto add = [&](const std::string& base, Index count) {
      for (Index i = 0; i < count; ++i) names.push_back(base + std::to_string(i));
    };
    add("replica_state_", (K_ - 1) * d);
    add("replica_score_", K_ * d);
    add("replica_energy_", K_);
    for (const char* b : {"beta_", "log_step_", "log_step_bar_", "h_bar_", "adapt_start_", "label_",
                          "label_state_"})
      add(b, K_);
    for (const char* b : {"swap_accepted_", "swap_proposed_", "round_rejection_", "round_count_"})
      add(b, K_ - 1);
    for (const char* b : {"adapt_iter", "round_trips", "accepted", "proposed", "evaluations"})
      names.push_back(b);
    return names;
  }

  void start(ChainBlock& b) const override {
    const Index n = b.x.rows(), d = dim();
    PtState st;
    // Replica k starts at the chain's start (x) too; the β = 0 replica mixes within steps.
    st.x = b.x.replicate(K_, 1);
    tempered_evaluate(energy_model_, st.x, st.phi, st.s);
    st.beta.resize(n, K_);
    for (Index k = 0; k < K_; ++k)
      st.beta.col(k).setConstant(static_cast<double>(k) / static_cast<double>(K_ - 1));
    st.log_step = Matrix::Constant(n, K_, std::log(settings_.step_size));
    st.log_step_bar = st.log_step;
    st.h_bar = Matrix::Zero(n, K_);
    st.adapt_start = Matrix::Constant(n, K_, settings_.step_size);
    st.adapt_iter = Vector::Zero(n);
    st.swap_accepted = st.swap_proposed = st.round_rejection = st.round_count =
        Matrix::Zero(n, K_ - 1);
    st.label.resize(n, K_);
    for (Index k = 0; k < K_; ++k) st.label.col(k).setConstant(static_cast<double>(k));
    st.label_state = Matrix::Constant(n, K_, -1.0);
    st.label_state.col(0).setZero();
    st.round_trips = st.accepted = st.proposed = Vector::Zero(n);
    st.evaluations = Vector::Constant(n, static_cast<double>(K_));
    (void)d;
    pack(st, b);
  }

  void transition(ChainBlock& b, Index step) const override {
    const Index n = b.x.rows(), d = dim();
    PtState st = unpack(b);
    const bool adapting = settings_.adapt && step < settings_.warmup;
    const bool frozen = settings_.adapt && step >= settings_.warmup;
    // 1. Local MALA moves of all K·n replicas.
    Vector beta(K_ * n), alpha(K_ * n), log_u(K_ * n);
    const std::uint64_t move_key = derive_seed(settings_.seed, kPtMoveTag);
    std::vector<std::uint64_t> streams(static_cast<std::size_t>(K_ * n));
    for (Index k = 0; k < K_; ++k)
      for (Index r = 0; r < n; ++r) {
        const Index row = k * n + r;
        streams[static_cast<std::size_t>(row)] = stream_index(b, r, k);
        beta[row] = st.beta(r, k);
        alpha[row] = std::exp(frozen ? st.log_step_bar(r, k) : st.log_step(r, k));
        RandomStream rng(move_key, streams[static_cast<std::size_t>(row)],
                         static_cast<std::uint32_t>(step));
        rng.seek(static_cast<std::uint32_t>((d + 1) / 2));  // after the d normals
        log_u[row] = std::log(rng.uniform());
      }
    // The d normals of each replica's stream in bulk (equal to RandomStream::normal() in order).
    Matrix xi(K_ * n, d);
    fill_normal_rows(move_key, streams.data(), 0, static_cast<std::uint32_t>(step), K_ * n, d,
                     xi.data(), d);
    const Matrix before = st.x.middleRows((K_ - 1) * n, n);
    const Vector accept =
        tempered_mala_move(energy_model_, reference_, st.x, st.phi, st.s, beta, alpha, xi, log_u);
    st.evaluations.array() += static_cast<double>(K_);
    for (Index r = 0; r < n; ++r) {
      if (adapting) {
        st.adapt_iter[r] += 1.0;
        for (Index k = 0; k < K_; ++k) {
          DualAveraging da{st.log_step(r, k), st.log_step_bar(r, k), st.h_bar(r, k)};
          da.update(st.adapt_iter[r], accept[k * n + r], settings_.target_accept,
                    st.adapt_start(r, k));
          st.log_step(r, k) = da.log_step;
          st.log_step_bar(r, k) = da.log_step_bar;
          st.h_bar(r, k) = da.h_bar;
        }
      } else if (step >= settings_.warmup) {
        const bool moved = st.x.row((K_ - 1) * n + r) != before.row(r);
        st.accepted[r] += moved ? 1.0 : 0.0;
        st.proposed[r] += 1.0;
      }
    }
    // 2. Non-reversible swaps: even pairs at even steps, odd pairs at odd steps.
    swaps(b, st, step, step >= settings_.warmup);
    // 3. Schedule adaptation at the end of each warm-up round.
    if (adapting && K_ > 2 && is_round_end(step)) refit_schedules(st);
    b.x = st.x.middleRows((K_ - 1) * n, n);
    pack(st, b);
  }

  std::vector<std::pair<std::string, Vector>> chain_report(const Matrix& aux) const override {
    ChainBlock b;
    b.x = Matrix::Zero(aux.rows(), dim());
    b.aux = aux;
    const PtState st = unpack(b);
    std::vector<std::pair<std::string, Vector>> out{
        {"acceptance_rate", st.accepted.cwiseQuotient(st.proposed.cwiseMax(1.0))},
        {"round_trips", st.round_trips},
        {"evaluations", st.evaluations}};
    for (Index k = 0; k + 1 < K_; ++k)
      out.push_back({"swap_acceptance_" + std::to_string(k),
                     st.swap_accepted.col(k).cwiseQuotient(st.swap_proposed.col(k).cwiseMax(1.0))});
    for (Index k = 0; k < K_; ++k) out.push_back({"beta_" + std::to_string(k), st.beta.col(k)});
    return out;
  }

 private:
  // The number of aux columns (as aux_names(), without building the names each step).
  Index aux_width() const { return (K_ - 1) * dim() + K_ * dim() + 8 * K_ + 4 * (K_ - 1) + 5; }

  std::uint64_t stream_index(const ChainBlock& b, Index r, Index k) const {
    return static_cast<std::uint64_t>((b.first_chain + r) * K_ + k);
  }

  // Refits at W/8, W/4 and W/2: the second half of warm-up adapts the steps to the final
  // schedule, so the frozen ε̄ is an average, not the last raw iterate.
  bool is_round_end(Index step) const {
    const Index W = settings_.warmup;
    if (W < 64) return W >= 4 && step + 1 == W / 2;
    return step + 1 == W / 8 || step + 1 == W / 4 || step + 1 == W / 2;
  }

  void swaps(const ChainBlock& b, PtState& st, Index step, bool kept) const {
    const Index n = b.x.rows();
    const std::uint64_t swap_key = derive_seed(settings_.seed, kPtSwapTag);
    const Vector phi0 = reference_.energy(st.x);
    for (Index r = 0; r < n; ++r)
      for (Index k = step % 2; k + 1 < K_; k += 2) {
        const Index lo = k * n + r, hi = (k + 1) * n + r;
        const double l_lo = phi0[lo] - st.phi[lo], l_hi = phi0[hi] - st.phi[hi];
        const double log_ratio = (st.beta(r, k) - st.beta(r, k + 1)) * (l_hi - l_lo);
        const double reject =
            std::isnan(log_ratio) ? 1.0 : 1.0 - std::min(1.0, std::exp(log_ratio));
        st.round_rejection(r, k) += reject;
        st.round_count(r, k) += 1.0;
        RandomStream rng(swap_key, stream_index(b, r, k), static_cast<std::uint32_t>(step));
        const bool take = std::log(rng.uniform()) < log_ratio;
        if (kept) {
          st.swap_proposed(r, k) += 1.0;
          st.swap_accepted(r, k) += take ? 1.0 : 0.0;
        }
        if (!take) continue;
        st.x.row(lo).swap(st.x.row(hi));
        st.s.row(lo).swap(st.s.row(hi));
        std::swap(st.phi[lo], st.phi[hi]);
        std::swap(st.label(r, k), st.label(r, k + 1));
      }
    // Round trips of the labels now at the two ends.
    for (Index r = 0; r < n; ++r) {
      double& bottom = st.label_state(r, static_cast<Index>(st.label(r, 0)));
      if (bottom == 1.0 && kept) st.round_trips[r] += 1.0;
      bottom = 0.0;
      double& top = st.label_state(r, static_cast<Index>(st.label(r, K_ - 1)));
      if (top == 0.0) top = 1.0;
    }
  }

  // Syed et al. (2022) Alg. 4 per chain, then restart the step adaptation.
  void refit_schedules(PtState& st) const {
    const Index n = st.beta.rows();
    for (Index r = 0; r < n; ++r) {
      Vector lambda(K_);
      lambda[0] = 0;
      for (Index k = 0; k + 1 < K_; ++k) {
        const double rate =
            st.round_count(r, k) > 0 ? st.round_rejection(r, k) / st.round_count(r, k) : 0.5;
        lambda[k + 1] = lambda[k] + std::max(rate, 1e-3);  // floor keeps Λ strictly increasing
      }
      Vector beta(K_);
      beta[0] = 0;
      beta[K_ - 1] = 1;
      for (Index k = 1; k + 1 < K_; ++k) {
        const double target = lambda[K_ - 1] * static_cast<double>(k) / static_cast<double>(K_ - 1);
        Index j = 0;
        while (j + 1 < K_ && lambda[j + 1] < target) ++j;
        const double t = (target - lambda[j]) / (lambda[j + 1] - lambda[j]);
        beta[k] = st.beta(r, j) + t * (st.beta(r, j + 1) - st.beta(r, j));
      }
      st.beta.row(r) = beta.transpose();
      for (Index k = 0; k < K_; ++k) {
        st.adapt_start(r, k) = std::exp(st.log_step(r, k));
        st.log_step_bar(r, k) = st.log_step(r, k);
        st.h_bar(r, k) = 0;
      }
      st.adapt_iter[r] = 0;
    }
    st.round_rejection.setZero();
    st.round_count.setZero();
  }

  // aux ⇄ typed state, in aux_names() order.
  PtState unpack(const ChainBlock& b) const {
    const Index n = b.x.rows(), d = dim();
    PtState st;
    Index col = 0;
    auto take = [&](Index count) {
      Matrix m = b.aux.middleCols(col, count);
      col += count;
      return m;
    };
    const Matrix states = take((K_ - 1) * d), scores = take(K_ * d);
    st.x.resize(K_ * n, d);
    st.s.resize(K_ * n, d);
    for (Index k = 0; k < K_; ++k) {
      st.s.middleRows(k * n, n) = scores.middleCols(k * d, d);
      st.x.middleRows(k * n, n) = k + 1 < K_ ? Matrix(states.middleCols(k * d, d)) : b.x;
    }
    const Matrix energies = take(K_);
    st.phi.resize(K_ * n);
    for (Index k = 0; k < K_; ++k) st.phi.segment(k * n, n) = energies.col(k);
    st.beta = take(K_);
    st.log_step = take(K_);
    st.log_step_bar = take(K_);
    st.h_bar = take(K_);
    st.adapt_start = take(K_);
    st.label = take(K_);
    st.label_state = take(K_);
    st.swap_accepted = take(K_ - 1);
    st.swap_proposed = take(K_ - 1);
    st.round_rejection = take(K_ - 1);
    st.round_count = take(K_ - 1);
    st.adapt_iter = take(1);
    st.round_trips = take(1);
    st.accepted = take(1);
    st.proposed = take(1);
    st.evaluations = take(1);
    return st;
  }

  void pack(const PtState& st, ChainBlock& b) const {
    const Index n = b.x.rows(), d = dim();
    b.aux.resize(n, aux_width());
    Index col = 0;
    auto put = [&](const Matrix& m) {
      b.aux.middleCols(col, m.cols()) = m;
      col += m.cols();
    };
    Matrix states(n, (K_ - 1) * d), scores(n, K_ * d), energies(n, K_);
    for (Index k = 0; k < K_; ++k) {
      scores.middleCols(k * d, d) = st.s.middleRows(k * n, n);
      if (k + 1 < K_) states.middleCols(k * d, d) = st.x.middleRows(k * n, n);
      energies.col(k) = st.phi.segment(k * n, n);
    }
    put(states);
    put(scores);
    put(energies);
    for (const Matrix* m : {&st.beta, &st.log_step, &st.log_step_bar, &st.h_bar, &st.adapt_start,
                            &st.label, &st.label_state, &st.swap_accepted, &st.swap_proposed,
                            &st.round_rejection, &st.round_count})
      put(*m);
    for (const Vector* v :
         {&st.adapt_iter, &st.round_trips, &st.accepted, &st.proposed, &st.evaluations})
      put(Matrix(*v));
  }

  const ScoreModel& energy_model_;
  Index K_;
  DiagonalGaussian reference_;
};
}  // namespace

static std::unique_ptr<Sampler> make_pt(const SamplerSettings& s, const ScoreSource& source) {
  const auto* model = dynamic_cast<const ScoreModel*>(source.model);
  if (model == nullptr)
    throw SettingError("pt needs a model with an energy (" + setting("model") + " DIR or " +
                       setting("target") + " NAME)");
  if (!model->has_energy())
    throw Error("pt needs the energy for its swaps and Metropolis tests, but this " +
                model->kind() +
                " model has only a score; fit an energy model (mlp-energy, "
                "gaussian, poly:K)");
  if (s.replicas < 2) throw InvalidSetting("replicas", "be at least 2", std::to_string(s.replicas));
  if (!(s.target_accept > 0 && s.target_accept < 1))
    throw InvalidSetting("target_accept", "lie in (0, 1)");
  const Index d = model->dim();
  if (s.reference_mean.size() != d || s.reference_sd.size() != d ||
      !(s.reference_sd.array() > 0).all())
    throw Error(
        "pt needs its Gaussian reference: a mean and positive standard deviations of "
        "length " +
        std::to_string(d));
  return std::make_unique<ParallelTempering>(s, *model);
}

SamplerDescriptor parallel_tempering() {
  return {"pt",
          "parallel tempering on the path from a Gaussian reference, non-reversible even/odd "
          "swaps, adapted schedule (Syed et al. 2022); MALA moves",
          SamplerInput::energy,
          {"warmup", "thin", "step_size", "adapt", "target_accept", "replicas", "reference"},
          /*posterior=*/false,
          [](const SamplerSettings&) { return 0.5; },
          make_pt};
}

}  // namespace scorematch::samplers
