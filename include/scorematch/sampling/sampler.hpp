// Langevin-type samplers as transitions of blocks of chains.
//
// A run is num_transitions() steps. Step t of chain c draws its noise from
// RandomStream(derive_seed(seed, kTransitionTag), c, t), so a chain's path depends only on
// (seed, c) — never on how chains are split over ranks, threads or blocks. After step t a sampler
// keeps the state as draw draw_slot(t) (or not, −1). Samplers work on a ChainBlock (a batch of
// consecutive chains), so a step is one batched score call per block, not a call per chain.
//
// Per-chain sampler state (MALA's step size, adaptation and acceptance counters, cached energy and
// score) lives in ChainBlock::aux, one row per chain, so it travels with the chain into
// checkpoints. New samplers: one file with its SamplerDescriptor plus one line in sampler.cpp.
#pragma once
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/score_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch {

inline constexpr std::uint64_t kInitTag = 11, kTransitionTag = 12;

struct SamplerSettings {
  std::string name = "ula";
  // ula/mala: kept-phase transitions (after warm-up); annealed: steps per noise level;
  // sde/ode/pc: time steps from t = 1 down to t_eps.
  Index steps = 1000;
  Index warmup = 0;  // ula/mala: transitions before the kept phase (MALA adapts during them)
  Index thin = 1;
  // α for ula/mala (MALA's initial value), ε for annealed; 0 = the sampler's default
  // (resolve_step_size).
  double step_size = 0;
  bool adapt = true;  // mala, hmc: adaptation during warm-up
  // 0 = the sampler's default (resolve_step_size): mala 0.574 (Roberts & Rosenthal 1998), hmc 0.8
  // (Stan's default).
  double target_accept = 0;
  Index leapfrog_steps = 10;  // hmc: L
  Index replicas = 8;         // pt: K temperatures, β = 0 (the reference) … 1
  // pt: the Gaussian reference N(mean, diag(sd²)) of the tempering path (filled by the driver).
  Vector reference_mean, reference_sd;
  double sigma_max = 0.0, sigma_min = 0.0;  // annealed ladder (model coordinates)
  Index levels = 10;
  bool denoise = true;  // annealed: final Tweedie step z + σ_L² s(z, σ_L)
  double snr = 0.16;    // pc: corrector signal-to-noise ratio r
  Index corrector_steps = 1;
  double t_eps = 1e-3;  // sde/ode/pc: final time
  std::uint64_t seed = 0;
  // ula/mala: diagonal preconditioner (per-coordinate scales c; empty = identity). The dynamics
  // run in u = x ⊘ c: x ← x + α c² ⊙ s(x) + √(2α) c ⊙ ξ, which is Langevin with metric diag(c²).
  Vector metric;
};

// The default step of each sampler, where step_size is 0:
//   ula/mala: α = 1e-2 (MALA adapts it during warm-up);
//   annealed: ε = 0.2 σ_min². Level i runs Langevin with α_i = ε σ_i²/σ_min² (Song & Ermon 2019,
//     Alg. 1), so ε is the step at σ_min; Langevin on a density whose score has Lipschitz
//     constant L is stable for α < 2/L, and near σ_min the noised score varies on the scale
//     σ_min (L ≈ 1/σ_min²), so ε must stay below ~2σ_min². 0.2σ_min² is Song & Ermon's own
//     choice (ε = 2·10⁻⁵ at σ_L = 0.01).
// Others ignore it (each descriptor's default_step_size). Returns the settings with step_size
// (and a target_accept of 0: the descriptor's default_target_accept) filled in.
SamplerSettings resolve_step_size(SamplerSettings s);

// What a sampler may use: a plain score model (ula, mala) or a noised score (annealed, sde,
// ode, pc). Either may be null; a sampler that lacks what it needs throws a clear Error.
struct ScoreSource {
  const ChainTarget* model = nullptr;  // a ScoreModel, or a posterior p(x | y_c) per chain
  const NoisedScore* noised = nullptr;
};

struct ChainBlock {
  Index first_chain = 0;  // global index of row 0
  Matrix x;               // chains × d, in the sampler's coordinates
  Matrix aux;             // chains × aux_columns()
};

// Divergence bound of the samplers of a noised score (annealed, ve-pc, the VP samplers), as a
// multiple of their prior scale (σ_max for VE, 1 for VP): their states follow the noised data,
// whose coordinates stay within a few prior scales (σ_max is chosen ≥ the data's diameter, Song &
// Ermon 2020), so a draw 10⁶ prior scales out lies outside every region the score was trained on.
inline constexpr double kNoisedDivergenceFactor = 1e6;

inline constexpr const char* non_finite_chain_report =
    "not finite in some chains (e.g. an adapted step size that overflowed)";

class Sampler {
 public:
  explicit Sampler(SamplerSettings settings) : settings_(std::move(settings)) {}
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  virtual Index dim() const = 0;
  virtual Index num_transitions() const = 0;
  virtual Index draws_per_chain() const = 0;
  // Draw index kept after transition `step`, or −1.
  virtual Index draw_slot(Index step) const = 0;
  // True when x lives in the noised score's coordinates z (data: shift + scale ⊙ z).
  virtual bool uses_model_coordinates() const { return false; }
  // Standard deviation of the prior N(0, s²I) in the sampler's coordinates.
  virtual double prior_scale() const { return 1.0; }
  // A draw with some |x_j| beyond this bound (sampler coordinates) has diverged: ChainRunner
  // stops with an error instead of keeping a finite but meaningless draw. +inf (no bound) for
  // samplers without a natural scale, the MCMC samplers on p itself, whose draws may lie anywhere.
  virtual double divergence_bound() const { return std::numeric_limits<double>::infinity(); }
  virtual std::vector<std::string> aux_names() const { return {}; }
  Index aux_columns() const { return static_cast<Index>(aux_names().size()); }
  // Fills aux for chains that start at x.
  virtual void start(ChainBlock&) const {}
  virtual void transition(ChainBlock& block, Index step) const = 0;
  // Per-chain figures for the report (e.g. acceptance rate, final step size), from aux. A figure
  // that is not finite in some chain has no mean, minimum or maximum: reports show null and
  // non_finite_chain_report.
  virtual std::vector<std::pair<std::string, Vector>> chain_report(const Matrix&) const {
    return {};
  }
  const SamplerSettings& settings() const { return settings_; }

 protected:
  // The transition noise of chain row `r` of `block` at `step`.
  RandomStream stream(const ChainBlock& block, Index r, Index step) const {
    return RandomStream(derive_seed(settings_.seed, kTransitionTag),
                        static_cast<std::uint64_t>(block.first_chain + r),
                        static_cast<std::uint32_t>(step));
  }
  // n × count standard normals (count = d by default), row r the first draws of
  // stream(block, r, step), as stream(…).normal() would give them (core/random_fill.hpp).
  Matrix normals(const ChainBlock& block, Index step, Index count = -1) const;

  SamplerSettings settings_;
};

// Base of the Markov chains on p itself (ula, mala): warm-up transitions, then `steps` kept-phase
// transitions of which every thin-th is a draw.
class McmcSampler : public Sampler {
 public:
  McmcSampler(const SamplerSettings& s, const ChainTarget& model)
      : Sampler(s),
        model_(model),
        c_(s.metric.size() > 0 ? s.metric : Vector::Ones(model.dim())),
        c2_(c_.cwiseProduct(c_)) {}
  Index dim() const override { return model_.dim(); }
  Index num_transitions() const override { return settings_.warmup + settings_.steps; }
  Index draws_per_chain() const override { return settings_.steps / settings_.thin; }
  Index draw_slot(Index step) const override {
    const Index kept = step - settings_.warmup + 1;
    if (kept <= 0 || kept % settings_.thin != 0) return -1;
    const Index slot = kept / settings_.thin - 1;
    return slot < draws_per_chain() ? slot : -1;
  }

 protected:
  const ChainTarget& model_;
  Vector c_, c2_;  // preconditioner scales and their squares
};

// What a sampler runs on: a score model s(x) (ula), a model with an energy (mala), or the noised
// score of a σ-conditioned (annealed) or t-conditioned (sde, ode, pc) model or target.
enum class SamplerInput { score, energy, sigma_noised, time_noised };

// Everything a driver needs to know about a sampler without naming it: what it runs on, which
// settings it reads beyond the common ones (steps, thin, step_size, seed), whether it can sample
// a posterior p(x | y), its default step and its factory. A new sampler is one file defining its
// descriptor plus one line in the registry (sampler.cpp).
struct SamplerDescriptor {
  using Factory = std::unique_ptr<Sampler> (*)(const SamplerSettings&, const ScoreSource&);
  std::string name;
  std::string summary;  // one line: what it is and its source
  SamplerInput input = SamplerInput::score;
  // Keys of the SamplerSettings fields it reads beyond the common ones, by their field names:
  // "warmup", "metric", "adapt", "target_accept", "sigma_max", "sigma_min", "levels",
  // "denoise", "t_eps", "beta_min", "beta_max", "snr", "corrector_steps".
  std::vector<std::string> settings;
  bool posterior = false;  // runs on PosteriorModel / PosteriorNoisedScore (p(x | y))
  // Its step where SamplerSettings::step_size is 0 (see resolve_step_size).
  double (*default_step_size)(const SamplerSettings&) = nullptr;
  Factory make = nullptr;
  double default_target_accept = 0.574;  // where target_accept is 0
  // Uses a posterior's imputation (sampling/noised_score.hpp Imputation) when offered.
  bool imputes = false;

  bool uses(const std::string& setting) const;
  // True for the samplers of the noised laws (they start from their prior at the largest noise).
  bool noised() const {
    return input == SamplerInput::sigma_noised || input == SamplerInput::time_noised;
  }
  // The noise scheme of a noised sampler's score (vpsde for the others).
  NoiseScheme noise_scheme() const {
    return input == SamplerInput::sigma_noised ? NoiseScheme::sigma : NoiseScheme::vpsde;
  }
};

// The registered samplers, in registry order; find_sampler throws Error naming the known ones.
const std::vector<SamplerDescriptor>& sampler_registry();
const SamplerDescriptor& find_sampler(const std::string& name);
std::vector<std::string> sampler_names();
// Names of the registered samplers with a property, in registry order.
template <class Keep>
std::vector<std::string> sampler_names_if(Keep keep) {
  std::vector<std::string> names;
  for (const SamplerDescriptor& d : sampler_registry())
    if (keep(d)) names.push_back(d.name);
  return names;
}

std::unique_ptr<Sampler> make_sampler(const SamplerSettings& settings, const ScoreSource& source);
// Throws unless settings.metric is empty or d positive finite scales.
void check_metric(const SamplerSettings& settings, Index dim);

// One descriptor per sampler file.
namespace samplers {
SamplerDescriptor ula();
SamplerDescriptor mala();
SamplerDescriptor annealed();
SamplerDescriptor reverse_sde();
SamplerDescriptor flow_ode();
SamplerDescriptor predictor_corrector();
SamplerDescriptor hmc();
SamplerDescriptor parallel_tempering();
SamplerDescriptor ve_predictor_corrector();
}  // namespace samplers

}  // namespace scorematch
