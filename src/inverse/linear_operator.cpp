#include "scorematch/inverse/linear_operator.hpp"

#include <utility>
#include <vector>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

// Column j of A = A e_j; AᵀA from them (generic, d applications; operators with structure
// override).
Matrix LinearOperator::gram(Index row) const {
  const Index d = in_dim();
  Matrix cols(d, out_dim());
  for (Index j = 0; j < d; ++j) cols.row(j) = apply(Matrix::Identity(d, d).row(j), row);
  return cols * cols.transpose();
}

namespace {

class Identity final : public LinearOperator {
 public:
  explicit Identity(Index d) : d_(d) {}
  std::string name() const override { return "identity"; }
  bool is_identity() const override { return true; }
  bool selects_coordinates() const override { return true; }
  Index in_dim() const override { return d_; }
  Index out_dim() const override { return d_; }
  Matrix apply(const Matrix& x, Index) const override { return x; }
  Matrix adjoint(const Matrix& y, Index) const override { return y; }
  Matrix gram(Index) const override { return Matrix::Identity(d_, d_); }

 private:
  Index d_;
};

class Mask final : public LinearOperator {
 public:
  explicit Mask(Matrix masks) : masks_(std::move(masks)) {
    for (Index r = 0; r < masks_.rows(); ++r)
      for (Index c = 0; c < masks_.cols(); ++c)
        if (masks_(r, c) != 0.0 && masks_(r, c) != 1.0)
          throw Error("row " + std::to_string(r + 1) + ", column " + std::to_string(c + 1) +
                      ": mask entries must be 0 or 1, got " + number_text(masks_(r, c)));
  }
  std::string name() const override { return "mask"; }
  bool selects_coordinates() const override { return true; }
  Index in_dim() const override { return masks_.cols(); }
  Index out_dim() const override { return masks_.cols(); }
  // A is diagonal, hence self-adjoint.
  Matrix apply(const Matrix& x, Index first_row) const override {
    Matrix out(x.rows(), x.cols());
    for (Index i = 0; i < x.rows(); ++i) out.row(i) = x.row(i).cwiseProduct(mask(first_row + i));
    return out;
  }
  Matrix adjoint(const Matrix& y, Index first_row) const override { return apply(y, first_row); }
  Matrix gram(Index row) const override { return mask(row).transpose().asDiagonal(); }

 private:
  Eigen::RowVectorXd mask(Index row) const {
    if (masks_.rows() == 1) return masks_.row(0);
    if (row < 0 || row >= masks_.rows())
      throw Error("observation " + std::to_string(row + 1) + " has no mask (the mask file has " +
                  std::to_string(masks_.rows()) + " rows)");
    return masks_.row(row);
  }
  Matrix masks_;
};

// Convolution as a list of (output pixel, input pixel, weight) taps, so that the adjoint is the
// same loop with the roles swapped (exactly, for either boundary rule).
class Blur final : public LinearOperator {
 public:
  Blur(Index h, Index w, const Matrix& kernel, const std::string& boundary) : d_(h * w) {
    if (h <= 0 || w <= 0) throw Error("blur: the image size must be positive");
    if (kernel.rows() % 2 == 0 || kernel.cols() % 2 == 0)
      throw Error("blur: the kernel must have odd height and width, got " +
                  std::to_string(kernel.rows()) + "x" + std::to_string(kernel.cols()));
    if (boundary != "zero" && boundary != "reflect")
      throw Error("blur: boundary must be 'zero' or 'reflect', not '" + boundary + "'");
    const Index a = kernel.rows() / 2, b = kernel.cols() / 2;
    if (boundary == "reflect" && (a >= h || b >= w))
      throw Error("blur: a reflect boundary needs a kernel smaller than the image");
    auto reflect = [](Index i, Index n) { return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i); };
    for (Index r = 0; r < h; ++r)
      for (Index c = 0; c < w; ++c)
        for (Index u = -a; u <= a; ++u)
          for (Index v = -b; v <= b; ++v) {
            Index rr = r + u, cc = c + v;
            if (boundary == "zero" && (rr < 0 || rr >= h || cc < 0 || cc >= w)) continue;
            rr = reflect(rr, h);
            cc = reflect(cc, w);
            taps_.push_back({r * w + c, rr * w + cc, kernel(u + a, v + b)});
          }
  }
  std::string name() const override { return "blur"; }
  Index in_dim() const override { return d_; }
  Index out_dim() const override { return d_; }
  Matrix apply(const Matrix& x, Index) const override {
    Matrix y = Matrix::Zero(x.rows(), d_);
    for (const Tap& t : taps_) y.col(t.out) += t.weight * x.col(t.in);
    return y;
  }
  Matrix adjoint(const Matrix& y, Index) const override {
    Matrix x = Matrix::Zero(y.rows(), d_);
    for (const Tap& t : taps_) x.col(t.in) += t.weight * y.col(t.out);
    return x;
  }

 private:
  struct Tap {
    Index out, in;
    double weight;
  };
  Index d_;
  std::vector<Tap> taps_;
};

class Dense final : public LinearOperator {
 public:
  explicit Dense(Matrix a) : a_(std::move(a)) {}
  std::string name() const override { return "dense"; }
  Index in_dim() const override { return a_.cols(); }
  Index out_dim() const override { return a_.rows(); }
  Matrix apply(const Matrix& x, Index) const override { return x * a_.transpose(); }
  Matrix adjoint(const Matrix& y, Index) const override { return y * a_; }
  Matrix gram(Index) const override { return a_.transpose() * a_; }

 private:
  Matrix a_;
};

}  // namespace

std::unique_ptr<LinearOperator> make_identity(Index d) {
  return std::make_unique<Identity>(d);
}
std::unique_ptr<LinearOperator> make_mask(Matrix masks) {
  return std::make_unique<Mask>(std::move(masks));
}
std::unique_ptr<LinearOperator> make_blur(Index h, Index w, Matrix kernel,
                                          const std::string& boundary) {
  return std::make_unique<Blur>(h, w, kernel, boundary);
}
std::unique_ptr<LinearOperator> make_dense(Matrix a) {
  return std::make_unique<Dense>(std::move(a));
}

}  // namespace scorematch::inverse
