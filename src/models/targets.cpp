// Registry of analytic targets and the row-addressed sampler.
#include "scorematch/models/targets.hpp"

#include <functional>
#include <map>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch {

namespace {
const std::map<std::string, std::function<std::unique_ptr<Target>(Index)>>& registry() {
  static const std::map<std::string, std::function<std::unique_ptr<Target>(Index)>> targets{
      {"gaussian", make_gaussian_target},
      {"gmm", make_gmm_target},
      {"banana", make_banana_target},
      {"rings", make_rings_target},
  };
  return targets;
}
}  // namespace

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Target> make_target(const std::string& name, Index dim) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : target_names()) known += (known.empty() ? "" : ", ") + n;
    throw SettingError("unknown distribution '" + name + "' (expected one of: " + known + ")");
  }
  if (dim < 1) throw InvalidSetting("dim", "be ≥ 1");
  return it->second(dim);
}

std::optional<SharedCovarianceMixture> target_mixture(const std::string& name, Index dim) {
  if (name == "gaussian") return gaussian_target_mixture(dim);
  if (name == "gmm") return gmm_target_mixture(dim);
  return std::nullopt;
}

Matrix draw_rows(const Target& target, std::uint64_t seed, RowRange rows) {
  Matrix out(rows.size(), target.dim());
  parallel::for_each_chunk(rows.size(), 1024, [&](Index, Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      RandomStream rng(seed, static_cast<std::uint64_t>(rows.begin + r));
      target.draw(rng, out.row(r).data());
    }
  });
  return out;
}

}  // namespace scorematch

namespace scorematch {

std::optional<Standardisation> Target::standardisation() const {
  const Matrix draws = draw_rows(*this, 0, {0, 4096});
  const Vector mean = draws.colwise().mean().transpose();
  const Vector sd = ((draws.rowwise() - mean.transpose()).array().square().colwise().sum() / 4095.0)
                        .sqrt()
                        .matrix()
                        .transpose();
  return Standardisation{mean, sd};
}

}  // namespace scorematch
