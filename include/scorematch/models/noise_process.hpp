// The one noise process of denoising score matching, noise-conditioned models and the samplers of
// noised laws (Vincent 2011; Song & Ermon 2019; Song et al. 2021):
//   fixed      x̃ = x + σ ε, one σ                                    (job name "single")
//   VE ladder  x̃ = x + σ_i ε, σ_i = σ_max (σ_min/σ_max)^{i/(L−1)}, i = 0 … L−1   ("ladder";
//              the geometric ladder of NCSN, the discretised variance-exploding SDE)
//   VE SDE     x̃ = x + σ ε, σ = σ_min (σ_max/σ_min)^u, u ~ U[0, 1]       ("vesde"; the
//              variance-exploding SDE of Song et al. 2021, eq. 31, with σ(t) =
//              σ_min(σ_max/σ_min)^t: the ladder's continuum, so the network learns every σ in
//              [σ_min, σ_max], not only the rungs — Tweedie's formula at a σ_y between two rungs
//              needs that)
//   VP SDE     x̃ = α(t) x + σ(t) ε, β(t) = β_min + t(β_max − β_min), t ∈ [t_eps, 1]  ("vpsde")
// ε ~ N(0, I). A σ-conditioned network is trained on the ladder or the VE SDE and sampled by
// annealed Langevin over a ladder (by default its training range); a t-conditioned network on the
// VP SDE, sampled by its reverse SDE / probability-flow ODE. The model directory keeps the process
// that trained it (meta.json "noise", io/model_dir.hpp).
#pragma once
#include <cmath>
#include <string>

#include "scorematch/core/types.hpp"
#include "scorematch/models/mlp.hpp"

namespace scorematch {

enum class NoiseKind { fixed, ve_ladder, ve_sde, vp_sde };

struct NoiseProcess {
  NoiseKind kind = NoiseKind::fixed;
  double sigma = 0.1;                        // fixed
  double sigma_min = 0.01, sigma_max = 1.0;  // VE ladder and VE SDE
  Index levels = 10;
  VpSde sde;            // VP SDE
  double t_eps = 1e-3;  // VP SDE: t ∈ [t_eps, 1]

  // σ_i of a geometric ladder from σ_max (i = 0) down to σ_min (i = L − 1); σ_min when L = 1.
  static double ladder_sigma(double sigma_max, double sigma_min, Index levels, Index i);
  double ladder_sigma(Index i) const { return ladder_sigma(sigma_max, sigma_min, levels, i); }
  // σ(u) = σ_min (σ_max/σ_min)^u of the VE SDE, u ∈ [0, 1]: u ~ U[0, 1] makes log σ uniform.
  double ve_sigma(double u) const { return sigma_min * std::pow(sigma_max / sigma_min, u); }
  // The conditioning input a network needs for it: none (fixed), σ (ladder, VE SDE), t (VP SDE).
  Conditioning conditioning() const;
  // The level at which a network trained on it is evaluated as a plain score model: σ (fixed),
  // σ_min (ladder, VE SDE), t_eps (VP SDE).
  double smallest_level() const;
  // The process's invariants, checked where a process is made (dsm at fit) and where one is read
  // back (a model's meta.json): fixed 0 < σ < ∞; ladder 0 < σ_min < σ_max < ∞ and 2 ≤ levels ≤
  // kMaxLoopCount (core/error.hpp);
  // VE SDE 0 < σ_min < σ_max < ∞; VP SDE 0 < t_eps < 1 and 0 < β_min < β_max < ∞.
  bool valid() const;
  // Those of this kind in words, with the settings' field names ("0 < sigma_min < sigma_max <
  // inf"), for the messages of a file's reader.
  std::string requirement() const;
  // Whether this kind reads a setting (by field name: sigma; sigma_min, sigma_max, levels;
  // beta_min, beta_max, t_eps).
  bool uses(const std::string& setting) const;
  // "single" | "ladder" | "vesde" | "vpsde" (the names of job files and meta.json).
  std::string name() const;
};

// NoiseKind of a name; throws Error "unknown dsm noise 'x' (expected single, ladder, vesde or
// vpsde)".
NoiseKind parse_noise_kind(const std::string& name);

}  // namespace scorematch
