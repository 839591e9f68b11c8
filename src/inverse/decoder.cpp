#include "scorematch/inverse/decoder.hpp"

#include <utility>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/jets/mlp_jet.hpp"

namespace scorematch::inverse {

namespace {

void require_codes(const Matrix& z, Index k) {
  if (z.cols() != k)
    throw Error("decoder has latent dimension " + std::to_string(k) + " but the codes have " +
                std::to_string(z.cols()) + " columns");
}

class LinearDecoder final : public Decoder {
 public:
  LinearDecoder(Matrix w, Vector b) : w_(std::move(w)), b_(std::move(b)) {
    if (w_.rows() < 1 || w_.cols() < 1) throw Error("linear decoder: W must be d x k, non-empty");
    if (b_.size() != w_.rows())
      throw Error("linear decoder: b has length " + std::to_string(b_.size()) + ", W has " +
                  std::to_string(w_.rows()) + " rows");
    if (!w_.allFinite() || !b_.allFinite()) throw Error("linear decoder: W or b is not finite");
  }
  std::string kind() const override { return "linear-decoder"; }
  Index latent_dim() const override { return w_.cols(); }
  Index data_dim() const override { return w_.rows(); }
  Matrix decode(const Matrix& z) const override {
    require_codes(z, latent_dim());
    return (z * w_.transpose()).rowwise() + b_.transpose();
  }
  void decode_with_jacobian(const Matrix& z, Matrix& fz, Matrix& jac_t) const override {
    fz = decode(z);
    const Index k = latent_dim();
    jac_t.resize(z.rows() * k, data_dim());
    for (Index b = 0; b < z.rows(); ++b) jac_t.middleRows(b * k, k) = w_.transpose();
  }
  Matrix contracted_hessian(const Matrix& z, const Matrix&) const override {
    return Matrix::Zero(z.rows() * latent_dim(), latent_dim());
  }
  NamedArrays arrays() const override { return {{"W", Array::from(w_)}, {"b", Array::from(b_)}}; }

 private:
  Matrix w_;
  Vector b_;
};

// Rows per jet call: large enough for efficient GEMMs, fixed so results do not depend on threads.
constexpr Index kDecodeChunk = 64;

class MlpDecoder final : public Decoder {
 public:
  MlpDecoder(const MlpSpec& spec, Vector theta) : spec_(spec), theta_(std::move(theta)) {
    spec_.validate();
    if (spec_.output != MlpOutput::decoder) throw Error("MLP decoder needs output = decoder");
    if (spec_.conditioning != Conditioning::none)
      throw Error("a noise-conditioned MLP cannot be used as a decoder");
    if (theta_.size() != spec_.num_parameters())
      throw Error("MLP decoder has " + std::to_string(theta_.size()) +
                  " parameters, its layout needs " + std::to_string(spec_.num_parameters()));
  }
  std::string kind() const override { return "mlp-decoder"; }
  Index latent_dim() const override { return spec_.dim; }
  Index data_dim() const override { return spec_.out_dim; }
  Matrix decode(const Matrix& z) const override {
    Matrix fz, unused;
    run(z, fz, unused, false);
    return fz;
  }
  void decode_with_jacobian(const Matrix& z, Matrix& fz, Matrix& jac_t) const override {
    run(z, fz, jac_t, true);
  }
  NamedArrays arrays() const override { return mlp_arrays(spec_, theta_); }

  Matrix contracted_hessian(const Matrix& z, const Matrix& c) const override {
    require_codes(z, latent_dim());
    const Index k = latent_dim(), n = z.rows();
    if (c.rows() != n || c.cols() != data_dim())
      throw Error("contracted_hessian: weights must be n x d");
    Matrix out(n * k, k);
    parallel::for_each_chunk(n, kDecodeChunk, [&](Index, Index begin, Index end) {
      const Index m = end - begin;
      MlpJet<double>& jet = thread_jet<double>(spec_);
      const Matrix rows = z.middleRows(begin, end - begin);
      // q(v)_b = Σ_i c_bi vᵀ∇²f_i(z_b) v for one tangent v (the same for every row).
      auto q = [&](Index j, Index l) {
        Matrix v = Matrix::Zero(m, k);
        v.col(j).setOnes();
        if (l != j) v.col(l).array() += 1.0;
        JetRequest<double> request;
        request.x = &rows;
        request.tangents = 1;
        request.explicit_tangents = &v;
        request.second_order = true;
        jet.forward(theta_.data(), request);
        Vector out_q(m);
        for (Index b = 0; b < m; ++b)
          out_q[b] = jet.output().row(jet.second_row(b)).dot(c.row(begin + b));
        return out_q;
      };
      std::vector<Vector> diag(static_cast<std::size_t>(k));
      for (Index j = 0; j < k; ++j) diag[static_cast<std::size_t>(j)] = q(j, j);
      for (Index j = 0; j < k; ++j)
        for (Index l = j; l < k; ++l) {
          const Vector h = l == j ? diag[static_cast<std::size_t>(j)]
                                  : Vector(0.5 * (q(j, l) - diag[static_cast<std::size_t>(j)] -
                                                  diag[static_cast<std::size_t>(l)]));
          for (Index b = 0; b < m; ++b) {
            out((begin + b) * k + j, l) = h[b];
            out((begin + b) * k + l, j) = h[b];
          }
        }
    });
    return out;
  }

 private:
  // One forward jet per chunk: identity tangents (K = k) give J_f's columns as tangent rows.
  void run(const Matrix& z, Matrix& fz, Matrix& jac_t, bool jacobian) const {
    require_codes(z, latent_dim());
    const Index k = latent_dim(), d = data_dim();
    fz.resize(z.rows(), d);
    if (jacobian) jac_t.resize(z.rows() * k, d);
    parallel::for_each_chunk(z.rows(), kDecodeChunk, [&](Index, Index begin, Index end) {
      MlpJet<double>& jet = thread_jet<double>(spec_);
      const Matrix rows = z.middleRows(begin, end - begin);
      JetRequest<double> request;
      request.x = &rows;
      if (jacobian) {
        request.tangents = k;
        request.diagonal_tangents = true;
      }
      jet.forward(theta_.data(), request);
      fz.middleRows(begin, end - begin) = jet.output().topRows(end - begin);
      if (jacobian)
        jac_t.middleRows(begin * k, (end - begin) * k) =
            jet.output().middleRows(end - begin, (end - begin) * k);
    });
  }

  MlpSpec spec_;
  Vector theta_;
};

}  // namespace

std::unique_ptr<Decoder> make_linear_decoder(Matrix w, Vector b) {
  return std::make_unique<LinearDecoder>(std::move(w), std::move(b));
}

std::unique_ptr<Decoder> make_mlp_decoder(const MlpSpec& spec, Vector theta) {
  return std::make_unique<MlpDecoder>(spec, std::move(theta));
}

}  // namespace scorematch::inverse
