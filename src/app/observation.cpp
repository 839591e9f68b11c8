#include "observation.hpp"

#include <cstdio>

#include "scorematch/core/error.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::app {

namespace {

Matrix read_small(const std::string& path, const std::string& what) {
  if (path.empty()) throw SettingError(setting("operator") + " needs " + what);
  const io::DataInfo info = io::probe_data(path);
  return io::read_data_rows(info, {0, info.rows});
}

// An option of another operator would be ignored: refused, naming the operator that reads it.
void check_operator_options(const InverseOptions& o) {
  const struct {
    const char* flag;
    const std::string* value;
    const char* op;
  } owned[] = {{"--mask", &o.mask, "mask"},
               {"--kernel", &o.kernel, "blur"},
               {"--image", &o.image, "blur"},
               {"--matrix", &o.matrix, "dense"}};
  for (const auto& option : owned)
    if (!option.value->empty() && o.op != option.op)
      throw SettingError(std::string(option.flag) + " does not apply to --operator " + o.op +
                         " (it is read by --operator " + option.op + ")");
}

std::unique_ptr<inverse::LinearOperator> build(const InverseOptions& o, Index d,
                                               Index observations) {
  check_operator_options(o);
  if (o.op == "identity") return inverse::make_identity(d);
  if (o.op == "mask") {
    Matrix masks =
        read_small(o.mask, "--mask FILE (0/1, one row per observation or one shared row)");
    if (masks.cols() != d)
      throw Error("'" + o.mask + "': mask rows have " + std::to_string(masks.cols()) +
                  " entries but the model has dimension " + std::to_string(d));
    if (masks.rows() != 1 && masks.rows() != observations)
      throw Error("'" + o.mask + "': " + std::to_string(masks.rows()) + " mask rows for " +
                  std::to_string(observations) +
                  " observations (expected 1 shared row or one per observation)");
    try {
      return inverse::make_mask(std::move(masks));
    } catch (const Error& e) {  // the operator knows the row and column, not the file
      throw Error("'" + o.mask + "' " + e.what());
    }
  }
  if (o.op == "blur") {
    Index h = 0, w = 0;
    if (std::sscanf(o.image.c_str(), "%ldx%ld", &h, &w) != 2 || h * w != d)
      throw SettingError(setting("image") + " must be HxW with H*W = " + std::to_string(d) +
                         " (got '" + o.image + "')");
    return inverse::make_blur(h, w, read_small(o.kernel, "--kernel FILE (odd height and width)"),
                              o.boundary);
  }
  if (o.op == "dense") {
    Matrix a = read_small(o.matrix, "--matrix FILE (m x d)");
    if (a.cols() != d)
      throw Error("'" + o.matrix + "' has " + std::to_string(a.cols()) +
                  " columns but the model has dimension " + std::to_string(d));
    return inverse::make_dense(std::move(a));
  }
  throw SettingError(setting("operator") + " must be identity | mask | blur | dense, not '" + o.op +
                     "'");
}

}  // namespace

std::unique_ptr<inverse::LinearOperator> make_operator(const InverseOptions& o, Index d,
                                                       Index observations, Index obs_width) {
  if (!(o.sigma_y > 0)) throw SettingError(setting("sigma-y") + " must be > 0");
  auto a = build(o, d, observations);
  if (a->out_dim() != obs_width)
    throw Error("'" + o.obs + "': observations have " + std::to_string(obs_width) +
                " values per row but the " + a->name() + " operator produces " +
                std::to_string(a->out_dim()));
  return a;
}

}  // namespace scorematch::app
