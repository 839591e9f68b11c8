#include "gaussian_reference.hpp"

#include "data_shard.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/column_stats.hpp"

namespace scorematch::app {

DiagonalGaussian gaussian_reference(const dist::Comm& comm, const LoadedScore& src,
                                    const std::string& data, std::string& from) {
  const ScoreModel& model = *src.model;
  DiagonalGaussian base;
  if (!data.empty()) {
    const Shard shard = read_shard(comm, data, model.dim());
    dist::run_collectively(comm, [&] { check_data_fits_model(src, shard.info, data); });
    const dist::ColumnStats stats =
        dist::column_stats(comm, shard.rows, shard.info.rows, shard.info.columns, data);
    base = {stats.mean, stats.sd};
    from = "column means and standard deviations of " + data;
  } else {
    dist::run_collectively(comm, [&] {
      if (const auto st = model.standardisation()) {
        base = {st->shift, st->scale};
        from = model.energy_is_normalised() ? "moments of 4096 exact draws of the target"
                                            : "the model's standardisation";
      } else if (const auto g = model.gaussian()) {
        base = {g->mean, g->precision.inverse().diagonal().cwiseSqrt()};
        from = "the model's own mean and marginal standard deviations";
      } else {
        throw Error("this " + model.kind() +
                    " model stores no standardisation to place its Gaussian reference; give " +
                    setting("data") + " FILE (its column means and standard deviations)");
      }
    });
  }
  dist::run_collectively(comm, [&] {
    if (!(base.sd.array() > 0).all())
      throw Error("the Gaussian base has a zero standard deviation (" + from +
                  "): a constant column cannot place it");
  });
  return base;
}

}  // namespace scorematch::app
