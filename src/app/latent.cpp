#include "latent.hpp"

#include <algorithm>
#include <cmath>

#include "memory_budget.hpp"
#include "report.hpp"

namespace scorematch::app {

namespace {
Vector noise_variance(const LatentJob& o, const io::LoadedDecoder& loaded) {
  const Index d = loaded.decoder->data_dim();
  Vector sd;
  if (!std::isnan(o.sigma)) {
    if (!(o.sigma > 0) || !std::isfinite(o.sigma))
      throw SettingError(setting("sigma") + " must be positive and finite, got " +
                         number_text(o.sigma));
    sd = Vector::Constant(d, o.sigma);
  } else if (!o.noise_sd.empty()) {
    const io::DataInfo info = io::probe_data(o.noise_sd);
    const Matrix m = io::read_data_rows(info, {0, info.rows});
    if (m.size() != d)
      throw Error("'" + o.noise_sd + "' holds " + std::to_string(m.size()) +
                  " values; the decoder writes " + std::to_string(d) + " columns");
    sd = Eigen::Map<const Vector>(m.data(), d);
  } else if (loaded.noise_sd.size() == d) {
    sd = loaded.noise_sd;
  } else {
    throw SettingError(
        "latent needs the decoder's noise: --sigma S, --noise-sd FILE, or noise_sd.npy in '" +
        o.decoder + "'");
  }
  if (!(sd.array() > 0).all() || !sd.allFinite())
    throw Error("decoder noise standard deviations must be positive and finite");
  return sd.array().square().inverse().matrix();
}

// What the phases of a latent run share.
struct LatentRun {
  io::LoadedDecoder loaded;
  inverse::LatentModel model;
  Shard shard;
  RowRange rows;  // this rank's rows: whole 64-row blocks
  inverse::LatentMapResult map;
  Matrix reconstruction;
};

// The decoder, the latent model and this rank's rows, checked (collective).
void load_latent(const dist::Comm& comm, LatentJob* o, LatentRun& run) {
  io::LoadedDecoder& loaded = run.loaded;
  inverse::LatentModel& model = run.model;
  Shard& shard = run.shard;
  const RowRange& rows = run.rows;
  dist::run_collectively(comm, [&] {
    loaded = io::load_decoder(o->decoder);
    if (shard.info.cols() != loaded.decoder->data_dim())
      throw Error("dimension mismatch: '" + o->data + "' has " + std::to_string(shard.info.cols()) +
                  " columns but the decoder '" + o->decoder + "' writes " +
                  std::to_string(loaded.decoder->data_dim()));
    if (o->prior != "normal" && o->prior != "flat")
      throw SettingError(setting("prior") + " must be normal | flat, not '" + o->prior + "'");
    if (o->method != "newton" && o->method != "gauss-newton")
      throw SettingError(setting("method") + " must be newton | gauss-newton, not '" + o->method +
                         "'");
    model = {loaded.decoder.get(), noise_variance(*o, loaded), o->prior == "normal" ? 1.0 : 0.0};
    inverse::validate(model);
    o->map.exact_hessian = o->method == "newton";
    if (o->sample) {
      // The chains run on the latent posterior itself: the samplers of p, not of noised laws.
      const std::vector<std::string> on_p =
          sampler_names_if([](const SamplerDescriptor& d) { return !d.noised(); });
      if (std::find(on_p.begin(), on_p.end(), o->s.name) == on_p.end()) {
        std::string names;
        for (const std::string& name : on_p) names += (names.empty() ? "" : " | ") + name;
        throw SettingError(setting("sampler") + " must be " + names + ", not '" + o->s.name + "'");
      }
      chains_for_units(shard.info.rows, o->chains_per_row, "chains-per-row");
    }
    shard.rows = io::read_data_rows(shard.info, rows);
  });
}

// MAP codes of this rank's rows and their reconstructions (collective).
void map_codes(const dist::Comm& comm, const LatentJob* o, LatentRun& run) {
  const Index k = run.loaded.decoder->latent_dim(), n = run.rows.size();
  const Shard& shard = run.shard;
  const RowRange& rows = run.rows;
  inverse::LatentMapResult& map = run.map;
  Matrix& reconstruction = run.reconstruction;
  const io::LoadedDecoder& loaded = run.loaded;
  const inverse::LatentModel& model = run.model;
  dist::run_collectively(comm, [&] {
    Matrix z0 = Matrix::Zero(n, k);
    if (o->init != "zero") {
      const io::DataInfo info = io::probe_data(o->init);
      if (info.rows != shard.info.rows || info.cols() != k)
        throw Error("'" + o->init + "' must hold " + std::to_string(shard.info.rows) + " x " +
                    std::to_string(k) + " initial codes");
      z0 = io::read_data_rows(info, rows);
    }
    map = inverse::latent_map(model, shard.rows, std::move(z0), o->map);
    // Decoded block by block: a batched decoder call is bitwise only for identical batches.
    reconstruction.resize(n, loaded.decoder->data_dim());
    for_each_block(rows, [&](RowRange block, Index offset) {
      reconstruction.middleRows(offset, block.size()) =
          loaded.decoder->decode(map.z.middleRows(offset, block.size()));
    });
  });
}

// Langevin draws: chain c samples p(z | x_{c/K}), started at its row's MAP code (read back
// from the staged z_map.npy, since a row's chains may live on another rank than its MAP).
// Writes z_samples.npy and z_mean.npy; returns latent.json's "sampling".
nlohmann::json sample_codes(const dist::Comm& comm, LatentJob* o, const LatentRun& run,
                            const std::string& staged) {
  const Index k = run.loaded.decoder->latent_dim();
  const Shard& shard = run.shard;
  const inverse::LatentModel& model = run.model;
  const std::string z_map_path = staged + "z_map.npy";
  nlohmann::json sampler_info;
  Index total_chains = 0;
  {
    total_chains = chains_for_units(shard.info.rows, o->chains_per_row, "chains-per-row");
    const RowRange chains =
        chain_shard(total_chains, comm.rank(), comm.size(), chain_group(o->chains_per_row));
    const RowRange chain_rows{chains.begin / o->chains_per_row, chains.end / o->chains_per_row};
    std::unique_ptr<inverse::LatentPosteriorModel> posterior;
    std::unique_ptr<Sampler> sampler;
    std::optional<ChainRunner> runner;
    const auto t0 = std::chrono::steady_clock::now();
    dist::run_collectively(comm, [&] {
      const Matrix z_start =
          io::read_npy_rows(z_map_path, io::read_npy_header(z_map_path), chain_rows);
      posterior = std::make_unique<inverse::LatentPosteriorModel>(
          model, io::read_data_rows(shard.info, chain_rows), chain_rows.begin, o->chains_per_row);
      o->s = resolve_step_size(o->s);
      sampler = make_sampler(o->s, {posterior.get(), nullptr});
      require_draws_memory(static_cast<double>(chains.size()), sampler->draws_per_chain(), k,
                           setting("chains_per_row") + " " + std::to_string(o->chains_per_row) +
                               " x " + std::to_string(shard.info.rows) + " rows");
      Matrix init(chains.size(), k);
      for (Index c = 0; c < chains.size(); ++c)
        init.row(c) = z_start.row((chains.begin + c) / o->chains_per_row - chain_rows.begin);
      runner.emplace(*sampler, chains, init, Vector::Zero(k), Vector::Ones(k));
      runner->advance(sampler->num_transitions());
    });
    const Matrix& draws = runner->draws();
    const Index per = o->chains_per_row * sampler->draws_per_chain();
    Matrix means(chain_rows.size(), k);
    for (Index i = 0; i < means.rows(); ++i)
      means.row(i) = draws.middleRows(i * per, per).colwise().mean();
    dist::write_npy_collective(comm, staged + "z_samples.npy", draws, false);
    dist::write_npy_collective(comm, staged + "z_mean.npy", means, false);
    const double seconds = comm.allreduce_max(seconds_since(t0));
    sampler_info = {{"sampler", o->s.name},
                    {"chains_per_row", o->chains_per_row},
                    {"chains", total_chains},
                    {"warmup", o->s.warmup},
                    {"steps", o->s.steps},
                    {"thin", o->s.thin},
                    {"step_size", o->s.step_size},
                    {"seed", o->s.seed},
                    {"draws_per_chain", sampler->draws_per_chain()},
                    {"seconds", seconds}};
    for (const auto& [name, local] : sampler->chain_report(runner->aux())) {
      // Undefined is not zero: an adapted step size that overflowed has no mean (as in sample).
      if (comm.allreduce_max(local.allFinite() ? 0.0 : 1.0) > 0) {
        sampler_info[name + "_mean"] = nullptr;
        sampler_info[name + "_undefined"] = non_finite_chain_report;
        continue;
      }
      // Exact sums: the same for any decomposition. Of values up to 1.8e308 the mean is finite,
      // their sum need not be.
      const double n = static_cast<double>(total_chains);
      double mean = dist::exact_column_sums(comm, Matrix(local))[0] / n;
      if (!std::isfinite(mean)) mean = dist::exact_column_sums(comm, Matrix(local / n))[0];
      sampler_info[name + "_mean"] = mean;
    }
  }

  return sampler_info;
}

// latent.json: the run's settings and its summaries over all rows (sums and maxima over ranks).
nlohmann::json latent_summary(const dist::Comm& comm, const LatentJob* o, const LatentRun& run,
                              double map_seconds, const nlohmann::json& sampler_info) {
  const Index k = run.loaded.decoder->latent_dim(), n = run.rows.size();
  const Shard& shard = run.shard;
  const inverse::LatentMapResult& map = run.map;
  const io::LoadedDecoder& loaded = run.loaded;
  double iterations = 0, max_iterations = 0;
  for (Index it : map.iterations) {
    iterations += static_cast<double>(it);
    max_iterations = std::max(max_iterations, static_cast<double>(it));
  }
  const double rows_total = static_cast<double>(shard.info.rows);
  const double converged = comm.allreduce_sum(static_cast<double>(map.converged));
  return {{"decoder", o->decoder},
          {"decoder_kind", loaded.decoder->kind()},
          {"latent_dim", k},
          {"data_dim", loaded.decoder->data_dim()},
          {"data", o->data},
          {"rows", shard.info.rows},
          {"prior", o->prior},
          {"method", o->method},
          {"tolerance", o->map.tolerance},
          {"converged_rows", converged},
          {"mean_iterations", comm.allreduce_sum(iterations) / std::max(rows_total, 1.0)},
          {"max_iterations", comm.allreduce_max(max_iterations)},
          {"max_stationarity", comm.allreduce_max(n ? map.stationarity.maxCoeff() : 0.0)},
          {"max_orthogonality", comm.allreduce_max(n ? map.orthogonality.maxCoeff() : 0.0)},
          {"mean_energy",
           dist::exact_column_sums(comm, Matrix(map.energy))[0] / std::max(rows_total, 1.0)},
          {"map_seconds", comm.allreduce_max(map_seconds)},
          {"ranks", comm.size()},
          {"threads_per_rank", parallel::num_threads()},
          {"sampling", o->sample ? sampler_info : nlohmann::json(nullptr)}};
}
}  // namespace

void run_latent(const dist::Comm& comm, LatentJob& job) {
  LatentJob* const o = &job;
  const auto start = std::chrono::steady_clock::now();
  LatentRun run;
  run.shard = read_shard(comm, o->data, 0, false);
  // Ranks own whole blocks of 64 rows (and, when sampling, of 64 chains), so every decoder call
  // sees the same row blocks whatever the decomposition: bitwise identical output.
  run.rows = chain_shard(run.shard.info.rows, comm.rank(), comm.size());
  load_latent(comm, o, run);
  map_codes(comm, o, run);
  const double map_seconds = seconds_since(start);
  CollectiveOutput output(comm, o->out);
  dist::write_npy_collective(comm, output.staged + "z_map.npy", run.map.z, false);
  dist::write_npy_collective(comm, output.staged + "reconstruction.npy", run.reconstruction, false);
  const nlohmann::json sampler_info =
      o->sample ? sample_codes(comm, o, run, output.staged) : nlohmann::json();
  const nlohmann::json info = latent_summary(comm, o, run, map_seconds, sampler_info);
  output.commit(comm, {{"latent.json", info.dump(2) + "\n"}});
  const Index rows = run.shard.info.rows;
  const double converged = info["converged_rows"].get<double>();
  say(comm, "latent codes (" + run.loaded.decoder->kind() +
                ", k = " + std::to_string(run.loaded.decoder->latent_dim()) + ", " + o->prior +
                " prior, " + o->method + ") of " + std::to_string(rows) +
                " rows: " + fmt("%.0f", converged) + " converged, max |J^T S^-1 r| / (|J| |r|) = " +
                fmt("%.3g", info["max_orthogonality"].get<double>()) + ", mean iterations " +
                fmt("%.1f", info["mean_iterations"].get<double>()) + "\n");
  if (o->sample)
    say(comm, o->s.name + ": " + std::to_string(sampler_info["chains"].get<Index>()) +
                  " chains x " + std::to_string(sampler_info["draws_per_chain"].get<Index>()) +
                  " draws in " + fmt("%.2f", sampler_info["seconds"].get<double>()) + " s\n");
  say(comm, "wrote " + o->out + "/ (z_map.npy, reconstruction.npy" +
                (o->sample ? ", z_samples.npy, z_mean.npy" : "") + ", latent.json)\n");
}

}  // namespace scorematch::app
