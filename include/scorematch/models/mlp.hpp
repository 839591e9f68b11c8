// Multilayer perceptrons for energies φθ: ℝᵈ → ℝ and scores sθ: ℝᵈ → ℝᵈ.
// Layer l maps h ↦ W_l h + b_l with W_l of shape [out, in] (row-major); hidden layers apply the
// activation, the last layer is linear. All parameters live in one flat vector θ in the order
// W0, b0, W1, b1, …, so an optimiser step or an MPI_Allreduce is one call on one buffer.
//
// Noise conditioning (for denoising score matching and annealed / reverse-SDE sampling): the input
// gets one extra feature c (log σ for a σ ladder, t for the VP-SDE) and the output is multiplied by
// 1/σ (NCSNv2, Song & Ermon 2020), which keeps the network's output O(1) across noise levels.
// With embedding = K > 0 the conditioning enters every hidden layer instead (the time embedding
// of NCSN++ / DDPM, Song et al. 2021, Ho et al. 2020, added to every block): hidden layer l gets
// the extra input columns e(c) = (c, sin ω_0c, …, sin ω_{K−1}c, cos ω_0c, …, cos ω_{K−1}c),
// ω_k = ω_lo (ω_hi/ω_lo)^{k/(K−1)} with ω_lo = 1/4, ω_hi = 16 per unit of c (so for c = log σ the
// slowest feature turns 1.5 rad over σ ∈ [0.01, 5] and the fastest resolves a factor 1.06 in σ),
// i.e. W_l = [W_l,h | U_l] and a_l = W_l,h h_{l−1} + U_l e(c) + b_l. The features are constant in
// x, so tangent and second-order rows see W_l,h only.
//
// Residual blocks (residual = true; He et al. 2016, the MLP form of the ResNet blocks that carry
// the time embedding in NCSN++, Song et al. 2021): every hidden layer after the first adds its
// input,
//   h_l = h_{l−1} + m_l ⊙ σ(a_l)   (l = 1 … L−2; m_l the dropout mask, 1 outside training),
// so all hidden widths must be equal; the first hidden layer (from x) and the linear head have no
// skip. The skip is the identity on every jet row: J_h,l = J_h,l−1 + σ' ⊙ J_a,l and L_h,l = L_h,l−1
// + σ' ⊙ L_a,l + σ'' ⊙ Q_l, and in reverse ∂/∂h_{l−1} gains ∂/∂h_l. Score and decoder networks
// only: the energy's gradient sweep and its double backpropagation (jets/mlp_jet.hpp) have no skip.
//
// Preconditioning (precondition = edm, σ-conditioned score networks only; Karras et al. 2022,
// "Elucidating the design space of diffusion-based generative models", Table 1): with σ_d the
// data's root-mean-square spread about its mean in model units (the model centres z on the
// column means), the denoiser D(z; σ) = c_skip z + c_out F(c_in z; log σ) with
//   c_in = 1/√(σ² + σ_d²),  c_skip = σ_d²/(σ² + σ_d²),  c_out = σ σ_d/√(σ² + σ_d²),
// i.e. the score s = (D − z)/σ² = −z/(σ² + σ_d²) + σ_d/(σ√(σ² + σ_d²)) F(c_in z; log σ):
// the network sees unit-variance inputs at every σ and adds to the exact score of the isotropic
// Gaussian N(0, σ_d² I) noised to σ, instead of carrying the whole −z/σ² pull at large σ (without
// it the score at σ ≥ 0.4 was worse than a single Gaussian's on optdigits, docs/OPTDIGITS.md).
// Its DSM loss weight λ(σ) = (σ² + σ_d²)/(σ σ_d)² in D units is (1 + σ²/σ_d²) × the NCSN σ²
// weighting in score units, so F's target has unit variance and unit weight at every σ.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "scorematch/core/array.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/models/activation.hpp"

namespace scorematch {

// energy: φ: ℝᵈ → ℝ; score: s: ℝᵈ → ℝᵈ; decoder: f: ℝᵈ → ℝ^out_dim (latent codes to data).
enum class MlpOutput { energy, score, decoder };
enum class Conditioning { none, sigma, time };
enum class Precondition { none, edm };

// VP-SDE with linear β(t) = β_min + t(β_max − β_min) (Song et al. 2021):
//   x_t = α(t) x_0 + σ(t) ε,  α(t) = exp(−½∫₀ᵗβ),  σ(t)² = 1 − α(t)².
struct VpSde {
  double beta_min = 0.1, beta_max = 20.0;
  double integral(double t) const { return beta_min * t + 0.5 * t * t * (beta_max - beta_min); }
  double alpha(double t) const { return std::exp(-0.5 * integral(t)); }
  double sigma(double t) const { return std::sqrt(-std::expm1(-integral(t))); }
  double beta(double t) const { return beta_min + t * (beta_max - beta_min); }
  // Throws InvalidSetting (beta_min, beta_max) unless 0 < beta_min < beta_max < ∞.
  void validate() const;
};

struct MlpSpec {
  Index dim = 0;              // d
  std::vector<Index> hidden;  // widths of the hidden layers
  MlpOutput output = MlpOutput::energy;
  Index out_dim = 0;  // decoder only: width of the output
  Activation activation = Activation::softplus;
  Conditioning conditioning = Conditioning::none;
  VpSde sde;            // used when conditioning == time
  Index embedding = 0;  // K sinusoidal frequencies in every hidden layer (0: c enters layer 0)
  Precondition precondition = Precondition::none;
  double sigma_data = 0.0;  // σ_d of edm preconditioning (model units)
  bool residual = false;    // residual hidden blocks (above)

  // Whether hidden layer l adds its input h_{l−1} (residual blocks, above).
  bool has_skip(Index l) const { return residual && l >= 1 && l + 1 < num_layers(); }

  // Width of e(c): 0 unconditioned, 1 (c itself) without embedding, 1 + 2K with it.
  Index cond_width() const {
    return conditioning == Conditioning::none ? 0 : embedding == 0 ? 1 : 1 + 2 * embedding;
  }
  // Conditioning columns of layer l (the last ones of W_l): e(c) in every hidden layer with an
  // embedding, c in layer 0 only without, none in the head.
  Index cond_cols(Index l) const {
    if (l + 1 == num_layers() || (embedding == 0 && l > 0)) return 0;
    return cond_width();
  }
  Index input_width() const { return dim + cond_cols(0); }
  Index output_width() const {
    return output == MlpOutput::energy ? 1 : output == MlpOutput::score ? dim : out_dim;
  }
  Index num_layers() const { return static_cast<Index>(hidden.size()) + 1; }
  Index layer_in(Index l) const {
    return (l == 0 ? dim : hidden[static_cast<std::size_t>(l - 1)]) + cond_cols(l);
  }
  Index layer_out(Index l) const {
    return l + 1 == num_layers() ? output_width() : hidden[static_cast<std::size_t>(l)];
  }
  Index weight_offset(Index l) const;
  Index bias_offset(Index l) const { return weight_offset(l) + layer_out(l) * layer_in(l); }
  Index num_parameters() const { return weight_offset(num_layers()); }
  // Throws Error unless the spec describes a usable network.
  void validate() const;
  std::string kind() const {
    return output == MlpOutput::energy  ? "mlp-energy"
           : output == MlpOutput::score ? "mlp-score"
                                        : "mlp-decoder";
  }
};

// Same layer shapes, activation, output and conditioning (β(t) included).
inline bool same_architecture(const MlpSpec& a, const MlpSpec& b) {
  return a.dim == b.dim && a.hidden == b.hidden && a.output == b.output && a.out_dim == b.out_dim &&
         a.activation == b.activation && a.conditioning == b.conditioning &&
         a.embedding == b.embedding && a.precondition == b.precondition &&
         a.sigma_data == b.sigma_data && a.residual == b.residual &&
         a.sde.beta_min == b.sde.beta_min && a.sde.beta_max == b.sde.beta_max;
}

std::string conditioning_name(Conditioning c);
Conditioning parse_conditioning(const std::string& name);
std::string precondition_name(Precondition p);
Precondition parse_precondition(const std::string& name);

// How a noise-conditioned network F is evaluated at level `level` (σ, or t for the VP-SDE):
//   s(z) = output_scale · F(input_scale · z; feature) − skip · z,
// and the DSM loss of a row is multiplied by loss_weight. Without preconditioning only the
// feature (log σ or t) and the output multiplier 1/σ differ from the identity.
struct ConditioningValues {
  double feature = 0.0, output_scale = 1.0, input_scale = 1.0, skip = 0.0, loss_weight = 1.0;
};
ConditioningValues conditioning_values(const MlpSpec& spec, double level);

// e(c) of the spec (cond_width() values) written to out.
template <class T>
void embed_conditioning(const MlpSpec& spec, T c, T* out) {
  out[0] = c;
  const Index K = spec.embedding;
  for (Index k = 0; k < K; ++k) {
    const double omega =
        K == 1 ? 0.25 : 0.25 * std::pow(64.0, static_cast<double>(k) / static_cast<double>(K - 1));
    out[1 + k] = static_cast<T>(std::sin(omega * static_cast<double>(c)));
    out[1 + K + k] = static_cast<T>(std::cos(omega * static_cast<double>(c)));
  }
}

// LeCun-normal weights N(0, 1/fan_in) and zero biases; layer l's weights are the normal draws of
// RandomStream(seed, l) in row-major order, so initialisation is reproducible everywhere.
Vector init_mlp_parameters(const MlpSpec& spec, std::uint64_t seed);

// θ from the arrays W0, b0, W1, … (W [out, in]) of a model directory, shapes checked against the
// spec; and back.
Vector mlp_theta_from_arrays(const MlpSpec& spec, const NamedArrays& arrays);
NamedArrays mlp_arrays(const MlpSpec& spec, const Vector& theta);

}  // namespace scorematch
