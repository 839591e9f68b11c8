// The fast MLP jets (jets/mlp_jet.hpp) and batch_sums (objectives/batch_gradient.hpp) against the
// frozen, plain reference twin of tests/reference/mlp_reference.hpp, which the tests evaluate in
// long double (64-bit mantissa) from the very inputs the fast path sees (θ, x, tangents rounded to
// the fast path's precision first), so any difference is the fast path's own rounding or a bug.
//
// JetReference: every output row of MlpJet::forward (values, tangents, second-order sums; identity,
// scaled diagonal and explicit tangents; with and without weights; extend() after a value sweep)
// for energy, score and decoder MLPs, every activation, float and double, four depths/widths,
// batches of 1 and 37 (37·width crosses the 256-value blocks of the vectorised softplus and is not
// a multiple of any chunk size), without conditioning, with an output scale only, and with a σ- or
// t-conditioning feature and output scale. θ-gradients of reverse(), input_gradient() and
// add_directional_theta_gradient() against central differences of the reference in long double.
// BatchSumsReference: the loss sum and θ-gradient of batch_sums for every objective at 1, 2 and 3
// threads against the sum of the reference's per-sample losses and its central differences.
//
// The max absolute and relative differences are printed per case ("[ref] …" lines) and recorded
// as test properties. Tolerances (relative to the largest |reference value| of the same kind in
// the case, so that a near-zero entry does not produce a meaningless ratio):
//   double 1e-12: rounding is ~1.1e-16 per operation; an output here is a chain of ≤ 5 layers of
//     sums over ≤ 16 inputs, so the forward error is ≲ 10²·1e-16 times the modest growth factor of
//     these O(1) networks (measured worst: 7e-14) — 1e-12 leaves an order of magnitude of margin
//     and still catches a wrong term: scaling the reference's σ'' term by 1 − 1e-6 failed here.
//   float 1e-4: the same argument with 6e-8 per operation gives ~1e-5; float's √(2/π) in gelu is
//     itself off by 3e-8.
//   θ-gradients vs finite differences: the central difference in long double with h = 2⁻²⁰ has
//     truncation error h²/6·f''' ≈ 1.5e-13·f''' and rounding ≈ 1e-19·|f|/h ≈ 1e-13·|f|, so double
//     gradients are held to 1e-9 (relative to the largest |FD component|), float to 1e-4.
//   batch_sums losses: relative to Σ_b |terms of loss_b| (ISM and SSM subtract curvature terms,
//     so the sum itself may cancel); double 1e-12, float 1e-4; its θ-gradients as above, float
//     gradients compared with the FD at the double inputs (the float path rounds θ, x and draws its
//     own float normals, all within a few float ulps: far below 1e-4).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mlp_testing.hpp"
#include "reference/mlp_reference.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/objectives/batch_gradient.hpp"

namespace scorematch {
namespace {

using LD = long double;
using LdVec = std::vector<LD>;
using testing::normal_matrix;
using testing::test_parameters;

template <class T>
inline constexpr double kTol = 1e-12;
template <>
inline constexpr double kTol<float> = 1e-4;
template <class T>
inline constexpr double kGradTol = 1e-9;
template <>
inline constexpr double kGradTol<float> = 1e-4;
constexpr LD kFdStep = 0x1.0p-20L;

template <class T>
const char* precision_name() {
  return sizeof(T) == sizeof(float) ? "float" : "double";
}

const char* output_name(MlpOutput out) {
  return out == MlpOutput::energy ? "energy" : out == MlpOutput::score ? "score" : "decoder";
}

template <class T>
LdVec to_ld(const T* p, Index n) {
  LdVec v(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<LD>(p[i]);
  return v;
}

// embedding: MlpSpec::embedding (the conditioning features of every hidden layer; 0 = c in layer
// 0).
MlpSpec spec_of(Index d, MlpOutput out, Activation act, std::vector<Index> hidden,
                Conditioning cond = Conditioning::none, Index embedding = 0) {
  MlpSpec spec = testing::make_spec(d, out, act, std::move(hidden), cond);
  spec.embedding = cond == Conditioning::none ? 0 : embedding;
  if (out == MlpOutput::decoder) spec.out_dim = 2;
  spec.validate();
  return spec;
}

// Largest |fast − reference| and largest |reference| of one kind of output in one case.
struct MaxDiff {
  LD abs = 0, scale = 0;
  void add(LD fast, LD ref) {
    abs = std::max(abs, std::fabs(fast - ref));
    scale = std::max(scale, std::fabs(ref));
  }
  double max_abs() const { return static_cast<double>(abs); }
  double rel() const { return static_cast<double>(scale > 0 ? abs / scale : abs); }
  bool within(double tol) const { return rel() <= tol; }
};

// Worst case over many MaxDiffs (for the printed lines).
struct Worst {
  double abs = 0, rel = 0;
  void add(const MaxDiff& d) {
    abs = std::max(abs, d.max_abs());
    rel = std::max(rel, d.rel());
  }
};

std::string format(const char* fmt, double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

std::string abs_rel(const Worst& w) {
  return format("abs %.2e rel %.2e", w.abs, w.rel);
}

// Central differences of f: ℝᴾ → ℝ in long double.
template <class F>
LdVec fd_gradient(const F& f, const LdVec& theta) {
  LdVec g(theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    LdVec up = theta, down = theta;
    up[i] += kFdStep;
    down[i] -= kFdStep;
    g[i] = (f(up) - f(down)) / (2 * kFdStep);
  }
  return g;
}

template <class T>
MaxDiff compare_vectors(const T* fast, const LdVec& ref) {
  MaxDiff d;
  for (std::size_t i = 0; i < ref.size(); ++i) d.add(static_cast<LD>(fast[i]), ref[i]);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Jet requests.

struct Mode {
  std::string name;
  Index K;  // −1: K = d (diagonal tangents)
  bool diagonal, diag_values, second, weights, extend;
};

const std::vector<Mode>& modes() {
  static const std::vector<Mode> all{
      {"values", 0, false, false, false, false, false},
      {"identity", -1, true, false, false, false, false},
      {"identity+second", -1, true, false, true, false, false},
      {"diagonal+weighted-second", -1, true, true, true, true, false},
      {"explicit3", 3, false, false, false, false, false},
      {"explicit2+second", 2, false, false, true, false, false},
      {"explicit2+weighted-second", 2, false, false, true, true, false},
      {"extend:explicit2+weighted-second", 2, false, false, true, true, true},
  };
  return all;
}

enum class CondVariant { none, scale_only, feature_and_scale };

// Everything one jet case feeds the fast path, in precision T, and the same values in long double.
template <class T>
struct JetInputs {
  Index B = 0, d = 0, K = 0;
  bool conditioned = false, scaled = false;
  VectorT<T> theta, feature, scale, diag, weights;
  MatrixT<T> x, v;
  LdVec theta_ref;
  std::vector<LdVec> x_ref;        // B
  std::vector<LdVec> tangent_ref;  // B·K: v_k of sample b at b·K + k
  LdVec weights_ref;               // K
  LdVec feature_ref, scale_ref;    // B (0 and 1 when unused)
};

template <class T>
JetInputs<T> make_inputs(const MlpSpec& spec, CondVariant cv, const Mode& mode, Index B,
                         std::uint64_t seed) {
  JetInputs<T> in;
  in.B = B;
  in.d = spec.dim;
  in.K = mode.K < 0 ? spec.dim : mode.K;
  in.conditioned = spec.conditioning != Conditioning::none;
  in.scaled = cv != CondVariant::none;
  in.theta = test_parameters(spec, seed).template cast<T>();
  in.x = normal_matrix(B, in.d, seed + 1).template cast<T>();
  in.feature = normal_matrix(B, 1, seed + 2).col(0).template cast<T>();
  in.scale = (0.5 * normal_matrix(B, 1, seed + 3).col(0).array()).exp().matrix().template cast<T>();
  in.diag =
      (1.0 + 0.5 * normal_matrix(in.d, 1, seed + 4).col(0).array()).matrix().template cast<T>();
  in.v = normal_matrix(B * in.K, in.d, seed + 5).template cast<T>();
  in.weights = normal_matrix(in.K, 1, seed + 6).col(0).template cast<T>();

  in.theta_ref = to_ld(in.theta.data(), in.theta.size());
  for (Index b = 0; b < B; ++b) {
    in.x_ref.push_back(to_ld(in.x.row(b).data(), in.d));
    in.feature_ref.push_back(in.conditioned ? static_cast<LD>(in.feature[b]) : 0.0L);
    in.scale_ref.push_back(in.scaled ? static_cast<LD>(in.scale[b]) : 1.0L);
    for (Index k = 0; k < in.K; ++k) {
      if (mode.diagonal) {
        LdVec e(static_cast<std::size_t>(in.d), 0.0L);
        e[static_cast<std::size_t>(k)] = mode.diag_values ? static_cast<LD>(in.diag[k]) : 1.0L;
        in.tangent_ref.push_back(e);
      } else {
        in.tangent_ref.push_back(to_ld(in.v.row(b * in.K + k).data(), in.d));
      }
    }
  }
  for (Index k = 0; k < in.K; ++k)
    in.weights_ref.push_back(mode.weights ? static_cast<LD>(in.weights[k]) : 1.0L);
  return in;
}

template <class T>
JetRequest<T> make_request(const JetInputs<T>& in, const Mode& mode) {
  JetRequest<T> request;
  request.x = &in.x;
  if (in.conditioned) request.cond_feature = &in.feature;
  if (in.scaled) request.output_scale = &in.scale;
  request.tangents = in.K;
  request.diagonal_tangents = mode.diagonal;
  if (mode.diag_values) request.diagonal = &in.diag;
  if (!mode.diagonal && in.K > 0) request.explicit_tangents = &in.v;
  request.second_order = mode.second;
  if (mode.weights) request.second_weights = &in.weights;
  return request;
}

template <class T>
void run_forward(MlpJet<T>& jet, const JetInputs<T>& in, const Mode& mode) {
  const JetRequest<T> request = make_request(in, mode);
  if (!mode.extend) {
    jet.forward(in.theta.data(), request);
    return;
  }
  JetRequest<T> values;
  values.x = request.x;
  values.cond_feature = request.cond_feature;
  values.output_scale = request.output_scale;
  values.keep_higher = true;
  jet.forward(in.theta.data(), values);
  jet.extend(in.theta.data(), request);
}

// The stacked jet output of the reference, in the documented layout: rows [0, B) values,
// B + b·K + k tangents, B + B·K + b second-order sums; row-major, width = output width.
LdVec reference_rows(const MlpSpec& spec, const LdVec& theta, const std::vector<LdVec>& x,
                     const LdVec& feature, const LdVec& scale, const std::vector<LdVec>& tangents,
                     const LdVec& weights, Index K, bool second) {
  const std::size_t B = x.size(), k_count = static_cast<std::size_t>(K);
  const std::size_t width = static_cast<std::size_t>(spec.output_width());
  const std::size_t rows = B * (1 + k_count) + (second ? B : 0);
  const int order = second ? 2 : (K > 0 ? 1 : 0);
  LdVec out(rows * width, 0.0L);
  for (std::size_t b = 0; b < B; ++b) {
    const reference::Point<LD> p =
        reference::evaluate(spec, theta, x[b].data(), feature[b], scale[b], order);
    for (std::size_t i = 0; i < width; ++i) {
      out[b * width + i] = p.value(i);
      LD sum = 0;
      for (std::size_t k = 0; k < k_count; ++k) {
        const LdVec& vk = tangents[b * k_count + k];
        out[(B + b * k_count + k) * width + i] = reference::tangent(p, i, vk.data());
        if (second) sum += weights[k] * reference::quadratic(p, i, vk.data());
      }
      if (second) out[(B + B * k_count + b) * width + i] = sum;
    }
  }
  return out;
}

template <class T>
LdVec reference_rows(const MlpSpec& spec, const JetInputs<T>& in, const Mode& mode,
                     const LdVec& theta) {
  return reference_rows(spec, theta, in.x_ref, in.feature_ref, in.scale_ref, in.tangent_ref,
                        in.weights_ref, in.K, mode.second);
}

struct ForwardWorst {
  Worst value, tangent, second;
};

template <class T>
void forward_case(const MlpSpec& spec, CondVariant cv, Index B, std::uint64_t seed,
                  const std::string& label, ForwardWorst& worst) {
  MlpJet<T> jet(spec);  // one jet for all modes: buffers are reused across request shapes
  for (const Mode& mode : modes()) {
    const JetInputs<T> in = make_inputs<T>(spec, cv, mode, B, seed);
    run_forward(jet, in, mode);
    const LdVec ref = reference_rows(spec, in, mode, in.theta_ref);
    const MatrixT<T>& out = jet.output();
    const Index width = spec.output_width();
    ASSERT_EQ(out.rows() * width, static_cast<Index>(ref.size())) << label << " " << mode.name;
    MaxDiff dv, dt, ds;
    for (Index b = 0; b < B; ++b)
      for (Index i = 0; i < width; ++i) {
        const auto at = [&](Index row) { return ref[static_cast<std::size_t>(row * width + i)]; };
        dv.add(static_cast<LD>(out(jet.value_row(b), i)), at(b));
        for (Index k = 0; k < in.K; ++k)
          dt.add(static_cast<LD>(out(jet.tangent_row(b, k), i)), at(B + b * in.K + k));
        if (mode.second) ds.add(static_cast<LD>(out(jet.second_row(b), i)), at(B + B * in.K + b));
      }
    const std::string where = label + " " + mode.name;
    EXPECT_TRUE(dv.within(kTol<T>))
        << where << ": values max abs " << dv.max_abs() << " rel " << dv.rel();
    EXPECT_TRUE(dt.within(kTol<T>))
        << where << ": tangents max abs " << dt.max_abs() << " rel " << dt.rel();
    EXPECT_TRUE(ds.within(kTol<T>))
        << where << ": second-order max abs " << ds.max_abs() << " rel " << ds.rel();
    worst.value.add(dv);
    if (in.K > 0) worst.tangent.add(dt);
    if (mode.second) worst.second.add(ds);
  }
}

struct Arch {
  Index d;
  std::vector<Index> hidden;
  bool residual = false;  // MlpSpec::residual (score and decoder networks)
};

// Every activation × precision for one output kind: 4 architectures (5 with residual blocks for
// scores and decoders) × 3 conditioning variants × B ∈ {1, 37} × 8 request modes, one printed line
// per activation and precision.
template <class T>
void forward_suite_precision(MlpOutput output, const std::string& act_name) {
  std::vector<Arch> archs{{1, {4}}, {3, {7, 6, 5}}, {5, {16, 3}}, {2, {5, 5, 5, 5}}};
  if (output != MlpOutput::energy) archs.push_back({3, {6, 6, 6}, true});
  ForwardWorst worst;
  std::uint64_t seed = 100;
  for (std::size_t a = 0; a < archs.size(); ++a)
    for (const CondVariant cv :
         {CondVariant::none, CondVariant::scale_only, CondVariant::feature_and_scale}) {
      // σ-conditioning on even architectures, t-conditioning on odd ones (the jet treats both
      // as one extra input feature).
      const Conditioning cond = cv != CondVariant::feature_and_scale ? Conditioning::none
                                : a % 2 == 0                         ? Conditioning::sigma
                                                                     : Conditioning::time;
      // The last two architectures carry the conditioning embedding (σ on one, t on the other).
      MlpSpec spec = spec_of(archs[a].d, output, parse_activation(act_name), archs[a].hidden, cond,
                             a >= 2 ? 2 : 0);
      spec.residual = archs[a].residual;
      spec.validate();
      for (const Index B : {Index{1}, Index{37}}) {
        const std::string label = std::string(output_name(output)) + " " + act_name + " " +
                                  precision_name<T>() + " d=" + std::to_string(archs[a].d) +
                                  " depth=" + std::to_string(archs[a].hidden.size()) +
                                  (archs[a].residual ? " residual" : "") +
                                  " cond=" + std::to_string(static_cast<int>(cv)) +
                                  " B=" + std::to_string(B);
        forward_case<T>(spec, cv, B, seed += 10, label, worst);
      }
    }
  const std::string line = std::string("[ref] forward ") + output_name(output) + " " + act_name +
                           " " + precision_name<T>() + ": value " + abs_rel(worst.value) +
                           " | tangent " + abs_rel(worst.tangent) + " | second " +
                           abs_rel(worst.second);
  std::printf("%s\n", line.c_str());
  ::testing::Test::RecordProperty(
      std::string("forward_") + output_name(output) + "_" + act_name + "_" + precision_name<T>(),
      line);
}

void forward_suite(MlpOutput output) {
  for (const std::string& act : activation_names()) {
    forward_suite_precision<double>(output, act);
    forward_suite_precision<float>(output, act);
  }
}

TEST(JetReference, EnergyForwardRowsMatchReference) {
  forward_suite(MlpOutput::energy);
}

TEST(JetReference, ScoreForwardRowsMatchReference) {
  forward_suite(MlpOutput::score);
}

TEST(JetReference, DecoderForwardRowsMatchReference) {
  forward_suite(MlpOutput::decoder);
}

// ---------------------------------------------------------------------------------------------
// The reference checks itself: layout = MlpSpec's offsets; J and H = central differences of its
// own value and Jacobian; usable (and consistent) in float and double.

TEST(JetReference, ReferenceIsSelfConsistent) {
  for (const MlpOutput output : {MlpOutput::energy, MlpOutput::score, MlpOutput::decoder})
    for (const Conditioning cond : {Conditioning::none, Conditioning::sigma, Conditioning::time})
      for (const Index embedding : {Index{0}, Index{3}}) {
        const MlpSpec spec = spec_of(3, output, Activation::tanh, {4, 5, 2}, cond, embedding);
        const std::vector<reference::LayerShape> layers = reference::layer_shapes(spec);
        ASSERT_EQ(static_cast<Index>(layers.size()), spec.num_layers());
        for (Index l = 0; l < spec.num_layers(); ++l) {
          const reference::LayerShape& s = layers[static_cast<std::size_t>(l)];
          EXPECT_EQ(static_cast<Index>(s.w), spec.weight_offset(l));
          EXPECT_EQ(static_cast<Index>(s.b), spec.bias_offset(l));
          EXPECT_EQ(static_cast<Index>(s.in), spec.layer_in(l));
          EXPECT_EQ(static_cast<Index>(s.out), spec.layer_out(l));
        }
        EXPECT_EQ(static_cast<Index>(reference::parameter_count(spec)), spec.num_parameters());
      }
  const LD h = 0x1.0p-22L;
  for (const std::string& act : activation_names())
    for (const auto& [output, residual] :
         {std::pair{MlpOutput::energy, false}, std::pair{MlpOutput::score, false},
          std::pair{MlpOutput::score, true}}) {  // the last: residual blocks' J and H
      MlpSpec spec = spec_of(3, output, parse_activation(act),
                             residual ? std::vector<Index>{5, 5, 5} : std::vector<Index>{6, 5},
                             Conditioning::sigma);
      spec.residual = residual;
      const Vector theta_d = test_parameters(spec, 77);
      const LdVec theta = to_ld(theta_d.data(), theta_d.size());
      const Matrix xm = normal_matrix(1, 3, 78);
      const LdVec x = to_ld(xm.data(), 3);
      const LD feature = 0.3L, scale = 1.7L;
      const reference::Point<LD> p = reference::evaluate(spec, theta, x.data(), feature, scale, 2);
      MaxDiff dj, dh;
      for (std::size_t k = 0; k < 3; ++k) {
        LdVec up = x, down = x;
        up[k] += h;
        down[k] -= h;
        const auto pu = reference::evaluate(spec, theta, up.data(), feature, scale, 1);
        const auto pd = reference::evaluate(spec, theta, down.data(), feature, scale, 1);
        for (std::size_t i = 0; i < p.out; ++i) {
          dj.add((pu.value(i) - pd.value(i)) / (2 * h), p.J(i, k));
          for (std::size_t m = 0; m < 3; ++m)
            dh.add((pu.J(i, m) - pd.J(i, m)) / (2 * h), p.H(i, m, k));
        }
      }
      EXPECT_LT(dj.rel(), 1e-9) << act << " " << output_name(output);
      EXPECT_LT(dh.rel(), 1e-9) << act << " " << output_name(output);
      // The same reference in double and float agrees with long double to their precision.
      const std::vector<double> theta_dbl(theta_d.data(), theta_d.data() + theta_d.size());
      const std::vector<float> theta_flt(theta_dbl.begin(), theta_dbl.end());
      const double xd[3] = {xm(0, 0), xm(0, 1), xm(0, 2)};
      const float xf[3] = {static_cast<float>(xd[0]), static_cast<float>(xd[1]),
                           static_cast<float>(xd[2])};
      const auto pdbl = reference::evaluate(spec, theta_dbl, xd, 0.3, 1.7, 2);
      const auto pflt = reference::evaluate(spec, theta_flt, xf, 0.3f, 1.7f, 2);
      const LdVec hess_ld(p.hess.begin(), p.hess.end());
      EXPECT_TRUE(compare_vectors(pdbl.hess.data(), hess_ld).within(1e-12)) << act;
      EXPECT_TRUE(compare_vectors(pflt.hess.data(), hess_ld).within(1e-4)) << act;
      std::printf("[ref] self-check %s %s: J vs FD rel %.2e, H vs FD rel %.2e\n", act.c_str(),
                  residual ? "score (residual)" : output_name(output), dj.rel(), dh.rel());
    }
}

// ---------------------------------------------------------------------------------------------
// θ-gradients (and input adjoints) of MlpJet::reverse against central differences of the
// reference's Σ adj ⊙ output.

template <class T>
void reverse_case(const MlpSpec& spec, CondVariant cv, const Mode& mode, std::uint64_t seed,
                  const std::string& label, Worst& theta_worst, Worst& input_worst) {
  const Index B = 3;
  const JetInputs<T> in = make_inputs<T>(spec, cv, mode, B, seed);
  MlpJet<T> jet(spec);
  run_forward(jet, in, mode);
  const MatrixT<T> adj =
      normal_matrix(jet.output().rows(), jet.output().cols(), seed + 7).template cast<T>();
  VectorT<T> grad = VectorT<T>::Zero(in.theta.size());
  MatrixT<T> input_adj(B, spec.dim);
  jet.reverse(in.theta.data(), adj, grad.data(), &input_adj);

  const LdVec adj_ref = to_ld(adj.data(), adj.size());
  const auto functional = [&](const LdVec& theta, const std::vector<LdVec>& x) {
    const LdVec rows = reference_rows(spec, theta, x, in.feature_ref, in.scale_ref, in.tangent_ref,
                                      in.weights_ref, in.K, mode.second);
    LD sum = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) sum += adj_ref[i] * rows[i];
    return sum;
  };
  const LdVec fd =
      fd_gradient([&](const LdVec& theta) { return functional(theta, in.x_ref); }, in.theta_ref);
  const MaxDiff dg = compare_vectors(grad.data(), fd);
  EXPECT_TRUE(dg.within(kGradTol<T>))
      << label << ": θ-gradient max abs " << dg.max_abs() << " rel " << dg.rel();
  theta_worst.add(dg);

  // ∂/∂x of the same functional (input_adjoint: the x-rows of the adjoint, all output rows).
  MaxDiff dx;
  for (std::size_t b = 0; b < static_cast<std::size_t>(B); ++b)
    for (std::size_t k = 0; k < static_cast<std::size_t>(spec.dim); ++k) {
      std::vector<LdVec> up = in.x_ref, down = in.x_ref;
      up[b][k] += kFdStep;
      down[b][k] -= kFdStep;
      dx.add(static_cast<LD>(input_adj(static_cast<Index>(b), static_cast<Index>(k))),
             (functional(in.theta_ref, up) - functional(in.theta_ref, down)) / (2 * kFdStep));
    }
  EXPECT_TRUE(dx.within(kGradTol<T>))
      << label << ": input adjoint max abs " << dx.max_abs() << " rel " << dx.rel();
  input_worst.add(dx);
}

TEST(JetReference, ReverseThetaGradientMatchesReferenceFd) {
  // values only, scaled diagonal tangents with a weighted second-order part, explicit ones, and
  // the same after extend() of a value sweep.
  const std::vector<Mode> picked{modes()[0], modes()[3], modes()[6], modes()[7]};
  std::uint64_t seed = 500;
  for (const MlpOutput output : {MlpOutput::energy, MlpOutput::score, MlpOutput::decoder})
    for (const std::string& act : activation_names()) {
      Worst theta_d, input_d, theta_f, input_f;
      for (const CondVariant cv : {CondVariant::none, CondVariant::feature_and_scale})
        for (const Index embedding : {Index{0}, Index{2}}) {
          if (cv == CondVariant::none && embedding > 0) continue;
          const Conditioning cond =
              cv == CondVariant::none ? Conditioning::none : Conditioning::sigma;
          for (const bool residual : {false, true}) {
            if (residual && output == MlpOutput::energy) continue;  // scores and decoders only
            MlpSpec spec = spec_of(
                3, output, parse_activation(act),
                residual ? std::vector<Index>{5, 5, 5} : std::vector<Index>{6, 5}, cond, embedding);
            spec.residual = residual;
            spec.validate();
            for (const Mode& mode : picked) {
              const std::string label = std::string(output_name(output)) + " " + act +
                                        " cond=" + std::to_string(static_cast<int>(cv)) +
                                        " embedding=" + std::to_string(embedding) +
                                        (residual ? " residual " : " ") + mode.name;
              reverse_case<double>(spec, cv, mode, seed += 10, label + " double", theta_d, input_d);
              reverse_case<float>(spec, cv, mode, seed, label + " float", theta_f, input_f);
            }
          }
        }
      const std::string line = std::string("[ref] reverse ") + output_name(output) + " " + act +
                               ": double dθ " + abs_rel(theta_d) + ", dx " + abs_rel(input_d) +
                               " | float dθ " + abs_rel(theta_f) + ", dx " + abs_rel(input_f);
      std::printf("%s\n", line.c_str());
      RecordProperty(std::string("reverse_") + output_name(output) + "_" + act, line);
    }
}

// ---------------------------------------------------------------------------------------------
// input_gradient() = the reference's ∇ₓφ (output scale included); add_directional_theta_gradient()
// = central differences of Σ_b u_bᵀ∇ₓφ(x_b) of the reference.

template <class T>
void directional_case(const MlpSpec& spec, CondVariant cv, Index B, std::uint64_t seed,
                      const std::string& label, Worst& grad_worst, Worst& theta_worst) {
  const JetInputs<T> in = make_inputs<T>(spec, cv, modes()[0], B, seed);
  const MatrixT<T> u = normal_matrix(B, spec.dim, seed + 8).template cast<T>();
  MlpJet<T> jet(spec);
  JetRequest<T> values = make_request(in, modes()[0]);
  values.keep_higher = true;
  jet.forward(in.theta.data(), values);
  MatrixT<T> g(B, spec.dim);
  jet.input_gradient(in.theta.data(), g);
  VectorT<T> grad = VectorT<T>::Zero(in.theta.size());
  jet.add_directional_theta_gradient(in.theta.data(), u, grad.data());

  MaxDiff dg;
  for (Index b = 0; b < B; ++b) {
    const auto p = reference::evaluate(
        spec, in.theta_ref, in.x_ref[static_cast<std::size_t>(b)].data(),
        in.feature_ref[static_cast<std::size_t>(b)], in.scale_ref[static_cast<std::size_t>(b)], 1);
    for (Index k = 0; k < spec.dim; ++k)
      dg.add(static_cast<LD>(g(b, k)), p.J(0, static_cast<std::size_t>(k)));
  }
  EXPECT_TRUE(dg.within(kTol<T>)) << label << ": ∇ₓφ max abs " << dg.max_abs() << " rel "
                                  << dg.rel();
  grad_worst.add(dg);

  const LdVec u_ref = to_ld(u.data(), u.size());
  const auto functional = [&](const LdVec& theta) {
    LD sum = 0;
    for (std::size_t b = 0; b < static_cast<std::size_t>(B); ++b) {
      const auto p = reference::evaluate(spec, theta, in.x_ref[b].data(), in.feature_ref[b],
                                         in.scale_ref[b], 1);
      for (std::size_t k = 0; k < static_cast<std::size_t>(spec.dim); ++k)
        sum += u_ref[b * static_cast<std::size_t>(spec.dim) + k] * p.J(0, k);
    }
    return sum;
  };
  const MaxDiff dt = compare_vectors(grad.data(), fd_gradient(functional, in.theta_ref));
  EXPECT_TRUE(dt.within(kGradTol<T>))
      << label << ": directional θ-gradient max abs " << dt.max_abs() << " rel " << dt.rel();
  theta_worst.add(dt);
}

TEST(JetReference, InputGradientAndDirectionalThetaGradientMatchReference) {
  std::uint64_t seed = 900;
  for (const std::string& act : activation_names()) {
    Worst grad_d, theta_d, grad_f, theta_f;
    for (const std::vector<Index>& hidden : {std::vector<Index>{5}, std::vector<Index>{6, 5, 4}})
      for (const CondVariant cv :
           {CondVariant::none, CondVariant::scale_only, CondVariant::feature_and_scale})
        for (const Index B : {Index{1}, Index{5}}) {
          const Conditioning cond =
              cv == CondVariant::feature_and_scale ? Conditioning::sigma : Conditioning::none;
          // The deeper network carries the conditioning embedding.
          const MlpSpec spec = spec_of(3, MlpOutput::energy, parse_activation(act), hidden, cond,
                                       hidden.size() > 1 ? 2 : 0);
          const std::string label = act + " depth=" + std::to_string(hidden.size()) +
                                    " cond=" + std::to_string(static_cast<int>(cv)) +
                                    " B=" + std::to_string(B);
          directional_case<double>(spec, cv, B, seed += 10, label + " double", grad_d, theta_d);
          directional_case<float>(spec, cv, B, seed, label + " float", grad_f, theta_f);
        }
    const std::string line = "[ref] input_gradient/directional " + act + ": double ∇ₓφ " +
                             abs_rel(grad_d) + ", dθ " + abs_rel(theta_d) + " | float ∇ₓφ " +
                             abs_rel(grad_f) + ", dθ " + abs_rel(theta_f);
    std::printf("%s\n", line.c_str());
    RecordProperty("directional_" + act, line);
  }
}

// ---------------------------------------------------------------------------------------------
// batch_sums against Σ_b of the reference's per-sample losses (tests/reference/mlp_reference.hpp
// reproduces every draw from RandomStream itself, so all four objectives are covered).

struct ObjectiveCase {
  std::string label;
  ObjectiveSettings settings;
  MlpOutput output;
  Conditioning conditioning = Conditioning::none;
  Index embedding = 0;
  Precondition precondition = Precondition::none;
  bool residual = false;  // MlpSpec::residual: hidden {5, 5, 5} instead of {6, 5}
};

std::vector<ObjectiveCase> objective_cases() {
  std::vector<ObjectiveCase> all;
  for (const MlpOutput out : {MlpOutput::energy, MlpOutput::score}) {
    const std::string kind = std::string(output_name(out)) + "/";
    ObjectiveSettings s;
    s.name = "esm";
    all.push_back({kind + "esm", s, out});
    s.name = "ism";
    all.push_back({kind + "ism", s, out});
    s.name = "ssm";
    s.projections = 3;
    all.push_back({kind + "ssm-rademacher", s, out});
    s.probe = "gaussian";
    all.push_back({kind + "ssm-gaussian", s, out});
    s.variance_reduced = true;
    all.push_back({kind + "ssm-gaussian-vr", s, out});
    s.probe = "rademacher";
    s.projections = 2;
    all.push_back({kind + "ssm-rademacher-vr", s, out});
    s = ObjectiveSettings{};
    s.name = "dsm";
    s.sigma = 0.4;
    all.push_back({kind + "dsm-single", s, out});
    all.push_back({kind + "dsm-single-conditioned", s, out, Conditioning::sigma});
    s.noise = "ladder";
    s.levels = 5;
    all.push_back({kind + "dsm-ladder", s, out, Conditioning::sigma});
    all.push_back({kind + "dsm-ladder-embedded", s, out, Conditioning::sigma, 2});
    s.noise = "vesde";
    all.push_back({kind + "dsm-vesde-embedded", s, out, Conditioning::sigma, 3});
    if (out == MlpOutput::score) {
      all.push_back({kind + "dsm-vesde-edm", s, out, Conditioning::sigma, 0, Precondition::edm});
      s.noise = "ladder";
      all.push_back(
          {kind + "dsm-ladder-edm-embedded", s, out, Conditioning::sigma, 2, Precondition::edm});
      s.noise = "vesde";
      s.dropout = 0.3;  // training steps drop hidden units (objectives/dropout.hpp)
      all.push_back({kind + "dsm-vesde-dropout", s, out, Conditioning::sigma});
      all.push_back({kind + "dsm-vesde-edm-embedded-dropout", s, out, Conditioning::sigma, 2,
                     Precondition::edm});
      s.dropout = 0.0;
      s.consistency = 0.7;  // the consistency term (Daras et al. 2023; dsm.cpp), with and without
      all.push_back({kind + "dsm-vesde-consistency", s, out, Conditioning::sigma});
      s.dropout = 0.3;  // edm, dropout in the trained pass and none in the teacher's
      all.push_back({kind + "dsm-vesde-edm-dropout-consistency", s, out, Conditioning::sigma, 0,
                     Precondition::edm});
      s.dropout = 0.0;
      s.consistency_steps = 3;  // the target after 3 ancestral steps (σ_k geometric)
      all.push_back({kind + "dsm-vesde-edm-consistency-steps", s, out, Conditioning::sigma, 0,
                     Precondition::edm});
      all.push_back({kind + "dsm-vesde-consistency-steps", s, out, Conditioning::sigma});
      s.consistency_steps = 1;
      // Residual blocks with the consistency term (a teacher pass through the skips too).
      all.push_back({kind + "dsm-vesde-residual-consistency", s, out, Conditioning::sigma, 0,
                     Precondition::none, true});
      s.consistency = 0.0;
      s.sigma_density = "lognormal";  // Karras et al. 2022's training density of σ
      s.p_mean = -0.5;
      s.p_std = 0.8;
      all.push_back(
          {kind + "dsm-vesde-lognormal-edm", s, out, Conditioning::sigma, 0, Precondition::edm});
      s.dropout = 0.3;  // residual blocks with an embedding, edm and dropout (the skip unmasked)
      all.push_back({kind + "dsm-vesde-lognormal-edm-residual-embedded-dropout", s, out,
                     Conditioning::sigma, 2, Precondition::edm, true});
      s.dropout = 0.0;
      s.sigma_density = "log-uniform";
    }
    s.noise = "vpsde";
    all.push_back({kind + "dsm-vpsde", s, out, Conditioning::time});
    all.push_back({kind + "dsm-vpsde-embedded", s, out, Conditioning::time, 2});
  }
  return all;
}

// Restores the default thread count however the test ends.
struct ThreadsGuard {
  ~ThreadsGuard() { parallel::set_num_threads(0); }
};

template <class T>
void compare_batch_sums(const BatchSums& sums, LD loss, LD magnitude, const LdVec& fd,
                        const std::string& label, Worst& loss_worst, Worst& grad_worst) {
  MaxDiff dl;
  dl.add(static_cast<LD>(sums.loss), loss);
  dl.scale = magnitude;  // relative to Σ|terms|, see the file comment
  EXPECT_TRUE(dl.within(kTol<T>)) << label << ": loss " << sums.loss << " vs reference "
                                  << static_cast<double>(loss) << " (rel " << dl.rel() << ")";
  loss_worst.add(dl);
  ASSERT_EQ(static_cast<std::size_t>(sums.grad.size()), fd.size()) << label;
  const MaxDiff dg = compare_vectors(sums.grad.data(), fd);
  EXPECT_TRUE(dg.within(kGradTol<T>))
      << label << ": θ-gradient max abs " << dg.max_abs() << " rel " << dg.rel();
  grad_worst.add(dg);
}

TEST(BatchSumsReference, LossAndGradientMatchReferenceAtOneTwoThreeThreads) {
  ThreadsGuard guard;
  const Index d = 3;
  const std::vector<std::string> acts = activation_names();
  std::size_t index = 0;
  for (const ObjectiveCase& c : objective_cases()) {
    const std::string act = acts[index++ % acts.size()];
    MlpSpec spec = spec_of(d, c.output, parse_activation(act),
                           c.residual ? std::vector<Index>{5, 5, 5} : std::vector<Index>{6, 5},
                           c.conditioning, c.embedding);
    spec.residual = c.residual;
    spec.precondition = c.precondition;
    spec.sigma_data = c.precondition == Precondition::edm ? 0.7 : 0.0;
    const auto objective = make_objective(c.settings);
    objective->check(spec);
    const Vector theta = test_parameters(spec, 40 + index);
    const LdVec theta_ref = to_ld(theta.data(), theta.size());
    // A teacher network near θ (dsm consistency's target network; the others ignore it).
    const Vector teacher = theta + 0.05 * test_parameters(spec, 90 + index);
    const LdVec teacher_ref = to_ld(teacher.data(), teacher.size());
    // n = 1, and 133 = 2·64 + 5 rows: three chunks of the grain of these models (64), the last
    // one partial, so 2 and 3 threads really split the batch.
    for (const Index n : {Index{1}, Index{133}}) {
      const Matrix x = normal_matrix(n, d, 41 + index);
      // ESM target: the analytic score of p(x) ∝ exp(−½‖x‖²) Π_i cosh(x_i)^{1/2},
      // s*(x) = −x + ½ tanh(x).
      Matrix target(n, d);
      for (Index i = 0; i < x.size(); ++i)
        target.data()[i] = -x.data()[i] + 0.5 * std::tanh(x.data()[i]);
      std::vector<std::uint64_t> streams;
      for (Index i = 0; i < n; ++i) streams.push_back(7000 + 3 * static_cast<std::uint64_t>(i));
      BatchInput input;
      input.x = &x;
      input.streams = &streams;
      input.seed = 2024;
      input.step = 17;
      input.target_score = objective->needs_target_score() ? &target : nullptr;
      input.train = true;  // dropout acts in training steps only (its own test below)
      input.teacher = &teacher;

      // dsm consistency's target is the teacher's, held fixed (stop-gradient) while the finite
      // differences move θ.
      const auto loss_sum = [&](const LdVec& th, LD* magnitude) {
        LD sum = 0, mag = 0;
        for (Index b = 0; b < n; ++b) {
          const LdVec xb = to_ld(x.row(b).data(), d), tb = to_ld(target.row(b).data(), d);
          const auto l = reference::sample_loss(spec, c.settings, th, xb.data(), tb.data(),
                                                input.seed, streams[static_cast<std::size_t>(b)],
                                                input.step, &teacher_ref);
          sum += l.loss;
          mag += l.magnitude;
        }
        if (magnitude) *magnitude = mag;
        return sum;
      };
      LD magnitude = 0;
      const LD loss = loss_sum(theta_ref, &magnitude);
      const LdVec fd =
          fd_gradient([&](const LdVec& th) { return loss_sum(th, nullptr); }, theta_ref);

      Worst loss_d, grad_d, loss_f, grad_f;
      JetPool<double> pool_d(spec);
      JetPool<float> pool_f(spec);
      BatchSums first_d, first_f;
      for (const int threads : {1, 2, 3}) {
        parallel::set_num_threads(threads);
        if (index == 1 && n == 1)
          std::printf("[ref] batch_sums: backend %s, set_num_threads(%d) -> num_threads() %d\n",
                      parallel::backend_name(), threads, parallel::num_threads());
        const std::string label =
            c.label + " " + act + " n=" + std::to_string(n) + " threads=" + std::to_string(threads);
        // Waves of 1 and 2 chunks at 2 and 3 threads (all 3 chunks at once at 1 thread): the
        // gradient buffers held at once must not change the sums either.
        input.wave = threads - 1;
        const BatchSums sd = batch_sums(*objective, spec, theta, input, true, pool_d);
        const BatchSums sf = batch_sums(*objective, spec, theta, input, true, pool_f);
        compare_batch_sums<double>(sd, loss, magnitude, fd, label + " double", loss_d, grad_d);
        compare_batch_sums<float>(sf, loss, magnitude, fd, label + " float", loss_f, grad_f);
        if (threads == 1) {
          first_d = sd;
          first_f = sf;
        } else {  // fixed chunks summed in order: bitwise independent of threads and waves
          EXPECT_EQ(sd.loss, first_d.loss) << label;
          EXPECT_TRUE(sd.grad == first_d.grad) << label;
          EXPECT_EQ(sf.loss, first_f.loss) << label;
          EXPECT_TRUE(sf.grad == first_f.grad) << label;
        }
      }
      const std::string line = "[ref] batch_sums " + c.label + " " + act +
                               " n=" + std::to_string(n) + ": double loss " + abs_rel(loss_d) +
                               ", dθ " + abs_rel(grad_d) + " | float loss " + abs_rel(loss_f) +
                               ", dθ " + abs_rel(grad_f);
      std::printf("%s\n", line.c_str());
      RecordProperty("batch_sums_" + c.label + "_n" + std::to_string(n), line);
    }
  }
}

}  // namespace
}  // namespace scorematch
