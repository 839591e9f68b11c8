#include "scorematch/models/mlp_model.hpp"

#include <cmath>
#include <memory>
#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/jets/mlp_jet.hpp"

namespace scorematch {

namespace {
constexpr Index kRowsPerChunk = 64;

// Runs f(jet, request, begin, end) on row chunks of the standardised batch z with threads, in
// precision T; request has x set to the chunk's rows and the conditioning of `level` filled in.
template <class T, class F>
void for_each_row_chunk(const MlpModel& m, const Matrix& z, double level, F f) {
  if (z.cols() != m.dim())
    throw Error("model has dimension " + std::to_string(m.dim()) + " but the input has " +
                std::to_string(z.cols()) + " columns");
  const bool conditioned = m.spec().conditioning != Conditioning::none;
  if (conditioned && !(level > 0))
    throw Error("a noise-conditioned MLP needs a positive noise level, got " +
                std::to_string(level));
  const ConditioningValues c =
      conditioned ? conditioning_values(m.spec(), level) : ConditioningValues{};
  parallel::for_each_chunk(z.rows(), kRowsPerChunk, [&](Index, Index begin, Index end) {
    // edm preconditioning scales the network's input by c_in (1 otherwise: rows unchanged).
    const MatrixT<T> rows =
        c.input_scale == 1.0
            ? MatrixT<T>(z.middleRows(begin, end - begin).cast<T>())
            : MatrixT<T>((c.input_scale * z.middleRows(begin, end - begin)).template cast<T>());
    const VectorT<T> feature = VectorT<T>::Constant(end - begin, static_cast<T>(c.feature));
    const VectorT<T> out_scale = VectorT<T>::Constant(end - begin, static_cast<T>(c.output_scale));
    JetRequest<T> request;
    request.x = &rows;
    if (conditioned) {
      request.cond_feature = &feature;
      request.output_scale = &out_scale;
    }
    f(thread_jet<T>(m.spec()), request, begin, end);
  });
}

// The preconditioning's affine part at `level` (mlp.hpp): s(z) = o F(c_in z) − k z, so
// ∂s/∂z = c_in ∂(o F)/∂u − k I (identity values for a network without preconditioning).
ConditioningValues preconditioning_at(const MlpModel& m, double level) {
  return m.spec().conditioning == Conditioning::none ? ConditioningValues{}
                                                     : conditioning_values(m.spec(), level);
}

template <class T>
const T* theta_of(const MlpModel& m);
template <>
const double* theta_of<double>(const MlpModel& m) {
  return m.theta().data();
}
template <>
const float* theta_of<float>(const MlpModel& m) {
  return m.theta_float32().data();
}

// The network score from a forward sweep: −∇φ̃ by one reverse sweep, or the output itself.
template <class T>
Matrix network_score_of(const MlpModel& m, MlpJet<T>& jet, Index rows) {
  if (!m.has_energy()) return jet.output().topRows(rows).template cast<double>();
  MatrixT<T> s(rows, m.dim());
  jet.reverse(theta_of<T>(m), MatrixT<T>::Ones(rows, 1), nullptr, &s);
  return -s.template cast<double>();
}

template <class T>
Matrix network_score_in(const MlpModel& m, const Matrix& z, double level) {
  Matrix out(z.rows(), m.dim());
  for_each_row_chunk<T>(
      m, z, level, [&](MlpJet<T>& jet, const JetRequest<T>& r, Index begin, Index end) {
        jet.forward(theta_of<T>(m), r);
        out.middleRows(begin, end - begin) = network_score_of(m, jet, end - begin);
      });
  const double skip = preconditioning_at(m, level).skip;
  if (skip != 0.0) out -= skip * z;
  return out;
}

// energy (n) and, when score != nullptr, score (n × d) in data units.
template <class T>
void energy_score_in(const MlpModel& m, const Matrix& x, Vector& energy, Matrix* score) {
  energy.resize(x.rows());
  if (score) score->resize(x.rows(), m.dim());
  const double log_det = m.scale().array().log().sum();
  for_each_row_chunk<T>(m, m.standardise(x), m.noise_level(),
                        [&](MlpJet<T>& jet, const JetRequest<T>& r, Index begin, Index end) {
                          jet.forward(theta_of<T>(m), r);
                          energy.segment(begin, end - begin) =
                              jet.output().col(0).template cast<double>().array() + log_det;
                          if (score)
                            score->middleRows(begin, end - begin) =
                                (network_score_of(m, jet, end - begin).array().rowwise() /
                                 m.scale().transpose().array())
                                    .matrix();
                        });
}
}  // namespace

MlpModel::MlpModel(MlpSpec spec, Vector theta, Vector shift, Vector scale, double noise_level)
    : spec_(std::move(spec)),
      theta_(std::move(theta)),
      shift_(std::move(shift)),
      scale_(std::move(scale)),
      noise_level_(noise_level) {
  spec_.validate();
  if (spec_.output == MlpOutput::decoder)
    throw Error("an mlp-decoder maps latent codes to data; it is not a density model (use latent)");
  if (theta_.size() != spec_.num_parameters())
    throw Error("MLP has " + std::to_string(theta_.size()) + " parameters, its layout needs " +
                std::to_string(spec_.num_parameters()));
  if (shift_.size() != spec_.dim || scale_.size() != spec_.dim)
    throw Error("MLP shift/scale must have length " + std::to_string(spec_.dim));
  if (!(scale_.array() > 0).all()) throw Error("MLP scale must be positive");
  if (!theta_.allFinite()) throw Error("MLP parameters contain NaN or Inf");
  if (spec_.conditioning != Conditioning::none && !(noise_level_ > 0))
    throw Error("a noise-conditioned MLP needs a positive noise level");
}

MlpModel MlpModel::from_arrays(const MlpSpec& spec, const NamedArrays& arrays, double noise_level) {
  const std::string kind = spec.kind();
  return MlpModel(spec, mlp_theta_from_arrays(spec, arrays),
                  require_array(arrays, "shift", kind).to_vector("shift"),
                  require_array(arrays, "scale", kind).to_vector("scale"), noise_level);
}

void MlpModel::set_noise_level(double level) {
  if (spec_.conditioning == Conditioning::none)
    throw Error("this " + kind() + " model is not conditioned on a noise level");
  if (!(level > 0) || !std::isfinite(level))
    throw Error("the noise level must be positive and finite, got " + std::to_string(level));
  noise_level_ = level;
}

Matrix MlpModel::standardise(const Matrix& x) const {
  if (x.cols() != dim())
    throw Error("model has dimension " + std::to_string(dim()) + " but the input has " +
                std::to_string(x.cols()) + " columns");
  return ((x.rowwise() - shift_.transpose()).array().rowwise() / scale_.transpose().array())
      .matrix();
}

void MlpModel::use_float32(bool on) {
  theta_f_ = on ? Eigen::VectorXf(theta_.cast<float>()) : Eigen::VectorXf();
}

Vector MlpModel::energy(const Matrix& x) const {
  if (!has_energy()) throw Error("an mlp-score model has no energy (it models the score only)");
  Vector e;
  if (float32())
    energy_score_in<float>(*this, x, e, nullptr);
  else
    energy_score_in<double>(*this, x, e, nullptr);
  return e;
}

Matrix MlpModel::network_score(const Matrix& z, double level) const {
  return float32() ? network_score_in<float>(*this, z, level)
                   : network_score_in<double>(*this, z, level);
}

Matrix MlpModel::score(const Matrix& x) const {
  return (network_score(standardise(x), noise_level_).array().rowwise() /
          scale_.transpose().array())
      .matrix();
}

void MlpModel::energy_and_score(const Matrix& x, Vector& energy, Matrix& score) const {
  if (!has_energy()) throw Error("an mlp-score model has no energy (it models the score only)");
  if (float32())
    energy_score_in<float>(*this, x, energy, &score);
  else
    energy_score_in<double>(*this, x, energy, &score);
}

Vector MlpModel::weighted_divergence(const Matrix& z, double level, const Vector& inv_w) const {
  Vector out(z.rows());
  for_each_row_chunk<double>(
      *this, z, level,
      [&](MlpJet<double>& jet, const JetRequest<double>& plain, Index begin, Index end) {
        JetRequest<double> r = plain;
        r.tangents = dim();
        r.diagonal_tangents = true;
        r.diagonal = &inv_w;  // v_k = e_k / w_k
        r.second_order = has_energy();
        jet.forward(theta_.data(), r);
        for (Index b = 0; b < end - begin; ++b) {
          if (has_energy()) {
            out[begin + b] = -jet.output()(jet.second_row(b), 0);
          } else {
            double trace = 0;
            for (Index k = 0; k < dim(); ++k)
              trace += jet.output()(jet.tangent_row(b, k), k) * inv_w[k];
            out[begin + b] = trace;
          }
        }
      });
  const ConditioningValues c = preconditioning_at(*this, level);
  if (c.input_scale != 1.0 || c.skip != 0.0)
    out = (c.input_scale * out.array() - c.skip * inv_w.squaredNorm()).matrix();
  return out;
}

Vector MlpModel::score_divergence(const Matrix& x) const {
  return weighted_divergence(standardise(x), noise_level_, scale_.cwiseInverse());
}

Vector MlpModel::network_divergence(const Matrix& z, double level) const {
  return weighted_divergence(z, level, Vector::Ones(dim()));
}

Matrix MlpModel::network_probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                                         Index K) const {
  if (probes.rows() != z.rows() * K || probes.cols() != dim())
    throw Error("probe matrix must be (rows·K) × d");
  Matrix out(z.rows(), K);
  for_each_row_chunk<double>(
      *this, z, level,
      [&](MlpJet<double>& jet, const JetRequest<double>& plain, Index begin, Index end) {
        const Index n = end - begin;
        // One tangent per sweep: the jet sums second-order terms over tangents.
        for (Index k = 0; k < K; ++k) {
          Matrix v(n, dim());
          for (Index b = 0; b < n; ++b) v.row(b) = probes.row((begin + b) * K + k);
          JetRequest<double> r = plain;
          r.tangents = 1;
          r.explicit_tangents = &v;
          r.second_order = has_energy();
          jet.forward(theta_.data(), r);
          for (Index b = 0; b < n; ++b)
            out(begin + b, k) = has_energy()
                                    ? -jet.output()(jet.second_row(b), 0)
                                    : jet.output().row(jet.tangent_row(b, 0)).dot(v.row(b));
        }
      });
  const ConditioningValues c = preconditioning_at(*this, level);
  if (c.input_scale != 1.0 || c.skip != 0.0)
    for (Index i = 0; i < z.rows(); ++i)
      for (Index k = 0; k < K; ++k)
        out(i, k) = c.input_scale * out(i, k) - c.skip * probes.row(i * K + k).squaredNorm();
  return out;
}

Matrix MlpModel::network_jacobian_product(const Matrix& z, double level, const Matrix& v) const {
  if (has_energy())
    throw Error(
        "the Jacobian-vector product of an mlp-energy's score is not implemented (it needs "
        "an mlp-score network)");
  if (v.rows() != z.rows() || v.cols() != dim())
    throw Error("Jacobian-vector product: directions must be rows × d, like the inputs");
  Matrix out(z.rows(), dim());
  for_each_row_chunk<double>(
      *this, z, level,
      [&](MlpJet<double>& jet, const JetRequest<double>& plain, Index begin, Index end) {
        const Index n = end - begin;
        const Matrix dir = v.middleRows(begin, n);
        JetRequest<double> r = plain;
        r.tangents = 1;
        r.explicit_tangents = &dir;
        jet.forward(theta_.data(), r);
        for (Index b = 0; b < n; ++b) out.row(begin + b) = jet.output().row(jet.tangent_row(b, 0));
      });
  // s(z) = o F(c_in z) − k z: the jet's tangent is o ∂F·v at c_in z, so ∇s v = c_in (…) − k v.
  const ConditioningValues c = preconditioning_at(*this, level);
  if (c.input_scale != 1.0 || c.skip != 0.0) out = c.input_scale * out - c.skip * v;
  return out;
}

NamedArrays MlpModel::arrays() const {
  NamedArrays a = mlp_arrays(spec_, theta_);
  a["shift"] = Array::from(shift_);
  a["scale"] = Array::from(scale_);
  return a;
}

}  // namespace scorematch
