#include "scorematch/models/mlp_model.hpp"

#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/jets/mlp_jet.hpp"

namespace scorematch {

namespace {
constexpr Index kRowsPerChunk = 64;

// Runs f(jet, request, begin, end) on row chunks of x with threads; request has x set to the
// chunk's standardised rows and the conditioning filled in.
template <class F>
void for_each_row_chunk(const MlpModel& m, const Matrix& x, F f) {
  if (x.cols() != m.dim())
    throw Error("model has dimension " + std::to_string(m.dim()) + " but the input has " +
                std::to_string(x.cols()) + " columns");
  const ConditioningValues c = conditioning_values(m.spec(), m.noise_level());
  parallel::for_each_chunk(x.rows(), kRowsPerChunk, [&](Index, Index begin, Index end) {
    const Matrix z =
        ((x.middleRows(begin, end - begin).rowwise() - m.shift().transpose()).array().rowwise() /
         m.scale().transpose().array())
            .matrix();
    const Vector feature = Vector::Constant(end - begin, c.feature);
    const Vector out_scale = Vector::Constant(end - begin, c.output_scale);
    JetRequest<double> request;
    request.x = &z;
    if (m.spec().conditioning != Conditioning::none) {
      request.cond_feature = &feature;
      request.output_scale = &out_scale;
    }
    MlpJet<double> jet(m.spec());
    f(jet, request, begin, end);
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
  Vector theta(spec.num_parameters());
  for (Index l = 0; l < spec.num_layers(); ++l) {
    const std::string w = "W" + std::to_string(l), b = "b" + std::to_string(l);
    const Matrix W = require_array(arrays, w, kind).to_matrix(w);
    const Vector bias = require_array(arrays, b, kind).to_vector(b);
    if (W.rows() != spec.layer_out(l) || W.cols() != spec.layer_in(l) ||
        bias.size() != spec.layer_out(l))
      throw Error("array '" + w + "' or '" + b + "' has a shape that does not match meta.json (" +
                  std::to_string(spec.layer_out(l)) + " x " + std::to_string(spec.layer_in(l)) +
                  ")");
    Eigen::Map<Matrix>(theta.data() + spec.weight_offset(l), W.rows(), W.cols()) = W;
    theta.segment(spec.bias_offset(l), bias.size()) = bias;
  }
  return MlpModel(spec, theta, require_array(arrays, "shift", kind).to_vector("shift"),
                  require_array(arrays, "scale", kind).to_vector("scale"), noise_level);
}

Vector MlpModel::energy(const Matrix& x) const {
  if (!has_energy()) throw Error("an mlp-score model has no energy (it models the score only)");
  Vector out(x.rows());
  const double log_det = scale_.array().log().sum();
  for_each_row_chunk(*this, x,
                     [&](MlpJet<double>& jet, const JetRequest<double>& r, Index begin, Index end) {
                       jet.forward(theta_.data(), r);
                       out.segment(begin, end - begin) = jet.output().col(0).array() + log_det;
                     });
  return out;
}

Matrix MlpModel::score(const Matrix& x) const {
  Matrix out(x.rows(), dim());
  for_each_row_chunk(*this, x,
                     [&](MlpJet<double>& jet, const JetRequest<double>& r, Index begin, Index end) {
                       jet.forward(theta_.data(), r);
                       Matrix s(end - begin, dim());
                       if (has_energy()) {
                         jet.reverse(theta_.data(), Matrix::Ones(end - begin, 1), nullptr, &s);
                         s = -s;
                       } else {
                         s = jet.output();
                       }
                       out.middleRows(begin, end - begin) =
                           (s.array().rowwise() / scale_.transpose().array()).matrix();
                     });
  return out;
}

Vector MlpModel::score_divergence(const Matrix& x) const {
  Vector out(x.rows());
  const Vector inv_scale = scale_.cwiseInverse();
  for_each_row_chunk(
      *this, x, [&](MlpJet<double>& jet, const JetRequest<double>& plain, Index begin, Index end) {
        JetRequest<double> r = plain;
        r.tangents = dim();
        r.diagonal_tangents = true;
        r.diagonal = &inv_scale;  // v_k = e_k / scale_k: tangents are x-derivatives
        r.second_order = has_energy();
        jet.forward(theta_.data(), r);
        for (Index b = 0; b < end - begin; ++b) {
          if (has_energy()) {
            out[begin + b] = -jet.output()(jet.second_row(b), 0);
          } else {
            double trace = 0;
            for (Index k = 0; k < dim(); ++k)
              trace += jet.output()(jet.tangent_row(b, k), k) / scale_[k];
            out[begin + b] = trace;
          }
        }
      });
  return out;
}

NamedArrays MlpModel::arrays() const {
  NamedArrays a;
  for (Index l = 0; l < spec_.num_layers(); ++l) {
    a["W" + std::to_string(l)] = Array::from(Matrix(Eigen::Map<const Matrix>(
        theta_.data() + spec_.weight_offset(l), spec_.layer_out(l), spec_.layer_in(l))));
    a["b" + std::to_string(l)] =
        Array::from(Vector(theta_.segment(spec_.bias_offset(l), spec_.layer_out(l))));
  }
  a["shift"] = Array::from(shift_);
  a["scale"] = Array::from(scale_);
  return a;
}

}  // namespace scorematch
